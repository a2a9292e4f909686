import { createLogger, loadConfigOrExit, runService, type ServiceHandle } from '@berth/service-kit';
import { loadPoolManagerConfig } from './config.js';
import { hostFromConfig } from './host.js';
import { startPoolManager } from './service.js';

const config = loadConfigOrExit('pool-manager', () => loadPoolManagerConfig());
const logger = createLogger('pool-manager', config.LOG_LEVEL);
const host = hostFromConfig(config);
const running: { handle?: ServiceHandle } = {};
// Fenced out by a newer pool-manager of this host: nothing this one does can take effect, so leave.
const leave = () => {
  void (running.handle?.stop('superseded') ?? Promise.resolve()).then(() => process.exit(1));
};
running.handle = await runService({
  name: 'pool-manager',
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: (onStop) => startPoolManager(config, logger, onStop, undefined, leave, host).then(() => undefined),
});
