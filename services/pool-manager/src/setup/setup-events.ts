import { EVENTS, type SetupStatus } from '@berth/contracts';
import { publishAcked, type Logger, type NatsConnection } from '@berth/service-kit';
import { jetstream } from '@nats-io/jetstream';

export interface SetupEvents {
  /** Resolves once the stream has the status (or it was given up on and logged); call in seq order. */
  publish(status: SetupStatus, owner: string): Promise<void>;
}

/** One owner's setup statuses (what a SetupTracker publishes through). */
export interface OwnedSetupEvents {
  publish(status: SetupStatus): Promise<void>;
}

export const ownedBy = (events: SetupEvents, owner: string): OwnedSetupEvents => ({ publish: (status) => events.publish(status, owner) });

const encoder = new TextEncoder();
/** Through a NATS node's loss or a leader election; inside EVENTS' duplicate window (120 s). */
const RETRY_FOR_MS = 90_000;

/**
 * Setup statuses into EVENTS, one at a time per setup (the caller awaits each), so the stream
 * holds them in seq order; Nats-Msg-Id = EVENTS.setup.msgId(id, seq) makes a republish harmless.
 */
export function jetStreamSetupEvents(nc: NatsConnection, logger: Logger): SetupEvents {
  const js = jetstream(nc);
  return {
    async publish(status, owner) {
      const data = encoder.encode(JSON.stringify(EVENTS.setup.schema.parse({ ...status, owner })));
      await publishAcked(nc, js, EVENTS.setup.subject(status.id), data, { msgID: EVENTS.setup.msgId(status.id, status.seq), retryForMs: RETRY_FOR_MS }).catch(
        (err: unknown) => logger.warn({ err, id: status.id, seq: status.seq, phase: status.phase }, 'setup status not published'),
      );
    },
  };
}

export const noSetupEvents: SetupEvents = { publish: async () => undefined };
