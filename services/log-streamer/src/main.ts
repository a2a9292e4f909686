import { createLogger, loadConfigOrExit, runService } from '@berth/service-kit';
import { loadLogStreamerConfig } from './config.js';
import { startLogStreamer } from './service.js';

const config = loadConfigOrExit('log-streamer', () => loadLogStreamerConfig());
const logger = createLogger('log-streamer', config.LOG_LEVEL);
await runService({
  name: 'log-streamer',
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: async (onStop) => {
    await startLogStreamer(config, logger, onStop);
  },
});
