export { startLogStreamer } from './service.js';
export { logStreamerConfigSchema, loadLogStreamerConfig, type LogStreamerConfig } from './config.js';
export { JetStreamLogStore } from './log-store.js';
export { registerLogMetrics } from './metrics.js';
