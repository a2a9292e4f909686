import { createLogger, loadConfigOrExit, runService } from '@berth/service-kit';
import { loadRepoCacheConfig } from './config.js';
import { startRepoCache } from './service.js';

// Mirrors are read by workspaces as another uid: everything repo-cache writes is world-readable.
process.umask(0o022);
const config = loadConfigOrExit('repo-cache', () => loadRepoCacheConfig());
const logger = createLogger('repo-cache', config.LOG_LEVEL);
await runService({
  name: 'repo-cache',
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: async (onStop) => {
    await startRepoCache(config, logger, onStop);
  },
});
