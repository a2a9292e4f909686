import { createLogger, loadConfigOrExit, runService } from '@berth/service-kit';
import { loadEgressConfig } from './config.js';
import { startEgress } from './service.js';

const config = loadConfigOrExit('egress', () => loadEgressConfig());
const logger = createLogger('egress', config.LOG_LEVEL);
await runService({
  name: 'egress',
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: async (onStop) => {
    await startEgress(config, logger, onStop);
  },
});
