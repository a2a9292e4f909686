import { EVENTS, type SetupStatus } from '@berth/contracts';
import type { Logger, NatsConnection } from '@berth/service-kit';
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Setup statuses into EVENTS, one at a time per setup (the caller awaits each), so the stream
 * holds them in seq order; Nats-Msg-Id = EVENTS.setup.msgId(id, seq) makes a republish harmless.
 */
export function jetStreamSetupEvents(nc: NatsConnection, logger: Logger): SetupEvents {
  const js = jetstream(nc);
  return {
    async publish(status, owner) {
      const data = encoder.encode(JSON.stringify(EVENTS.setup.schema.parse({ ...status, owner })));
      for (let attempt = 1; ; attempt++) {
        try {
          await js.publish(EVENTS.setup.subject(status.id), data, { msgID: EVENTS.setup.msgId(status.id, status.seq) });
          return;
        } catch (err) {
          if (attempt >= 4) {
            logger.warn({ err, id: status.id, seq: status.seq, phase: status.phase }, 'setup status not published');
            return;
          }
          await sleep(100 * 2 ** attempt);
        }
      }
    },
  };
}

export const noSetupEvents: SetupEvents = { publish: async () => undefined };
