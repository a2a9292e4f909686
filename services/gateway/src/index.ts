export { startServer } from './server.js';
export { buildApp, type AppOptions } from './app.js';
export { GatewayConfigSchema, loadGatewayConfig, type GatewayConfig } from './config.js';
export type { ApiKeyEntry } from './keys/api-key.js';
export { mintKey } from './keys/mint.js';
export { JetStreamLogReader } from './logs/jetstream-reader.js';
