import { createLogger, loadConfigOrExit, runService } from '@berth/service-kit';
import { loadPoolManagerConfig } from './config.js';
import { startPoolManager } from './service.js';

const config = loadConfigOrExit('pool-manager', () => loadPoolManagerConfig());
const logger = createLogger('pool-manager', config.LOG_LEVEL);
await runService({
  name: 'pool-manager',
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: (onStop) => startPoolManager(config, logger, onStop).then(() => undefined),
});
