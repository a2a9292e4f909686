import { createLogger, runService } from '@berth/service-kit';
import { loadPoolManagerConfig } from './config.js';
import { startPoolManager } from './service.js';

const config = loadPoolManagerConfig();
const logger = createLogger('pool-manager', config.LOG_LEVEL);
await runService({
  name: 'pool-manager',
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: async (onStop) => {
    await startPoolManager(config, logger, onStop);
  },
});
