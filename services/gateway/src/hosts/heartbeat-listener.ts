import { HEARTBEAT_INTERVAL_MS, HEARTBEATS } from '@berth/contracts';
import { subscribeValidated, type Logger, type NatsConnection } from '@berth/service-kit';
import type { HostDirectory } from './host-view.js';

/**
 * Feeds the directory from every host's heartbeats and checks once per beat interval for hosts
 * that went silent (their listeners run then). Returns the stopper.
 */
export function listenToHeartbeats(nc: NatsConnection, directory: HostDirectory, logger: Logger): () => void {
  const sub = subscribeValidated(
    nc,
    HEARTBEATS.pattern,
    HEARTBEATS.schema,
    (hb) => {
      if (directory.stateOf(hb.hostId) === 'lost') logger.warn({ hostId: hb.hostId }, 'Docker host is back');
      directory.heard(hb);
    },
    logger,
  );
  directory.onLost((hostId) => logger.warn({ hostId }, 'Docker host lost: no heartbeat'));
  const timer = setInterval(() => directory.sweep(), HEARTBEAT_INTERVAL_MS / 2);
  return () => {
    clearInterval(timer);
    sub.unsubscribe();
  };
}
