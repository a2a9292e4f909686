import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

export interface AckedPublishOptions {
  /** The stream drops a second message with this id inside its duplicate window. */
  msgID: string;
  /** Keep trying this long; must stay inside the stream's duplicate window. */
  retryForMs: number;
  timeoutMs?: number;
}

const RETRY_DELAY_MS = { first: 100, max: 2_000 };

/**
 * Publishes into a stream until it acknowledges: through a NATS node's loss, a reconnect or a
 * stream leader's election (no responders, timeouts). A retry of a publish that was stored after
 * all (its ack lost) carries the same msgID, so the stream keeps one copy. Rejects with the last
 * error after `retryForMs`, or at once when the connection is closed (the service is stopping).
 */
export async function publishAcked(nc: NatsConnection, js: JetStreamClient, subject: string, data: Uint8Array, opts: AckedPublishOptions): Promise<void> {
  const giveUpAt = Date.now() + opts.retryForMs;
  for (let delay = RETRY_DELAY_MS.first; ; delay = Math.min(delay * 2, RETRY_DELAY_MS.max)) {
    try {
      await js.publish(subject, data, { msgID: opts.msgID, timeout: opts.timeoutMs ?? 5_000 });
      return;
    } catch (err) {
      if (nc.isClosed() || Date.now() + delay >= giveUpAt) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }
}
