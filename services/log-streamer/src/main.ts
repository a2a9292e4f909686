import { ConfigError, createLogger, runService } from '@berth/service-kit';
import { loadLogStreamerConfig, type LogStreamerConfig } from './config.js';
import { startLogStreamer } from './service.js';

let config: LogStreamerConfig;
try {
  config = loadLogStreamerConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`log-streamer: ${err.message}`);
  process.exit(1);
}
const logger = createLogger('log-streamer', config.LOG_LEVEL);
await runService({
  name: 'log-streamer',
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: async (onStop) => {
    await startLogStreamer(config, logger, onStop);
  },
});
