import { HEARTBEAT_INTERVAL_MS, HEARTBEATS } from '@berth/contracts';
import { subscribeValidated, type Logger, type NatsConnection, type Redis } from '@berth/service-kit';
import type { EventPublisher } from '../events.js';
import { reportHostLoss, reportHostReturn } from './host-loss.js';
import { PeerWatch } from './peer-watch.js';
import { ReturnCheck } from './return-check.js';

export interface LossReportingDeps {
  nc: NatsConnection;
  redis: Redis;
  events: EventPublisher;
  hostId: string;
  /** Whether this host still has the workspace (after its reconcile). */
  exists: (id: string) => Promise<boolean>;
  logger: Logger;
}

/**
 * Watches the other hosts' heartbeats and tells of a lost one's workspaces (`lost`, once per
 * loss across every pool-manager); and, after a stall or every few seconds (ReturnCheck), takes
 * this host's own loss marker when one was left while it was away and tells what survived. Call after the startup reconcile.
 * Returns the stopper.
 */
export async function startLossReporting(d: LossReportingDeps): Promise<() => void> {
  const watch = new PeerWatch(d.hostId);
  const sub = subscribeValidated(d.nc, HEARTBEATS.pattern, HEARTBEATS.schema, (hb) => watch.heard(hb), d.logger);
  const returned = () => reportHostReturn(d.redis, d.events, d.hostId, d.exists, d.logger);
  await returned();
  const returnCheck = new ReturnCheck();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const lost = watch.newlyLost().map((h) => reportHostLoss(d.redis, d.events, h, d.hostId, d.logger));
    Promise.all([...lost, ...(returnCheck.due() ? [returned()] : [])])
      .catch((err: unknown) => d.logger.warn({ err }, 'host loss reporting failed'))
      .finally(() => {
        busy = false;
      });
  }, HEARTBEAT_INTERVAL_MS / 2);
  return () => {
    clearInterval(timer);
    sub.unsubscribe();
  };
}
