import { ConfigError, createLogger, runService } from '@berth/service-kit';
import { loadPoolManagerConfig, type PoolManagerConfig } from './config.js';
import { startPoolManager } from './service.js';

let config: PoolManagerConfig;
try {
  config = loadPoolManagerConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`pool-manager: ${err.message}`);
  process.exit(1);
}
const logger = createLogger('pool-manager', config.LOG_LEVEL);
await runService({
  name: 'pool-manager',
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: async (onStop) => {
    await startPoolManager(config, logger, onStop);
  },
});
