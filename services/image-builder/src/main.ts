import { createLogger, loadConfigOrExit, runService } from '@berth/service-kit';
import { loadImageBuilderConfig } from './config.js';
import { startImageBuilder } from './service.js';

const config = loadConfigOrExit('image-builder', () => loadImageBuilderConfig());
const logger = createLogger('image-builder', config.LOG_LEVEL);
await runService({
  name: 'image-builder',
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: async (onStop) => {
    await startImageBuilder(config, logger, onStop);
  },
});
