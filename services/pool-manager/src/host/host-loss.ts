import type { Logger, Redis } from '@berth/service-kit';
import { z } from 'zod';
import type { EventPublisher } from '../events.js';
import { readHostRecords } from '../state/host-records.js';
import { hostKeys } from '../state/keys.js';

/**
 * The mark a surviving pool-manager leaves when it tells of a host's loss: which workspaces it
 * told `lost`. The host takes it (GETDEL) when it is back and tells which of them survived.
 */
const LossMarkerSchema = z.object({
  lostAt: z.string(),
  reportedBy: z.string(),
  /** The lost pool-manager's last heartbeat boot. */
  boot: z.string(),
  workspaces: z.array(z.object({ id: z.string(), pool: z.string(), owner: z.string() })),
});
type LossMarker = z.infer<typeof LossMarkerSchema>;

/** One marker per host and loss: SET NX makes a single pool-manager the teller however many see it. */
export const lossKey = (hostId: string): string => `${hostKeys(hostId).prefix}lost`;
/** A host that never comes back leaves its marker this long. */
const MARKER_TTL_S = 30 * 24 * 3600;

/**
 * Tells of every workspace of a lost host with a `lost` event, once per loss: only the
 * pool-manager that sets the marker publishes. Returns how many were told, or undefined when
 * another pool-manager (or an earlier sweep) told already.
 */
export async function reportHostLoss(
  redis: Redis,
  events: EventPublisher,
  lost: { hostId: string; boot: string },
  reporter: string,
  logger: Logger,
): Promise<number | undefined> {
  const records = await readHostRecords(redis, lost.hostId);
  const marker: LossMarker = {
    lostAt: new Date().toISOString(),
    reportedBy: reporter,
    boot: lost.boot,
    workspaces: records.map((r) => ({ id: r.id, pool: r.pool, owner: r.owner })).sort((a, b) => (a.id < b.id ? -1 : 1)),
  };
  if ((await redis.set(lossKey(lost.hostId), JSON.stringify(marker), 'EX', MARKER_TTL_S, 'NX')) !== 'OK') return undefined;
  for (const w of marker.workspaces) events.publish(w.id, 'lost', w.pool, 'host-lost', { hostId: lost.hostId, ...(w.owner && { owner: w.owner }) });
  logger.warn({ hostId: lost.hostId, workspaces: marker.workspaces.length }, 'Docker host lost: its workspaces told lost');
  return marker.workspaces.length;
}

/**
 * Run by a host that is back (after its reconcile decided what survived): each workspace told
 * `lost` is `recovered` when it is still there, else `removed` (reason `lost-with-host`).
 * Returns the counts, or undefined when no loss was told.
 */
export async function reportHostReturn(
  redis: Redis,
  events: EventPublisher,
  hostId: string,
  exists: (id: string) => Promise<boolean>,
  logger: Logger,
): Promise<{ recovered: number; removed: number } | undefined> {
  const raw = await redis.getdel(lossKey(hostId));
  if (raw === null) return undefined;
  const parsed = LossMarkerSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    logger.warn({ hostId }, 'loss marker unreadable; no recovered events');
    return undefined;
  }
  const counts = { recovered: 0, removed: 0 };
  for (const w of parsed.data.workspaces) {
    const owner = w.owner ? { owner: w.owner } : {};
    if (await exists(w.id)) {
      events.publish(w.id, 'recovered', w.pool, 'host-returned', owner);
      counts.recovered += 1;
    } else {
      events.publish(w.id, 'removed', w.pool, 'lost-with-host', owner);
      counts.removed += 1;
    }
  }
  logger.info({ hostId, ...counts, lostAt: parsed.data.lostAt }, 'back after a loss: survivors told recovered');
  return counts;
}
