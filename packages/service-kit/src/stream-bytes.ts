import { headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { z } from 'zod';
import type { Logger } from './logger.js';

/**
 * File bytes on a stream (contracts/streams.ts) travel as binary NATS payloads: the sequence
 * number rides in this header, the payload is the bytes as they are (no base64, no JSON, no
 * schema pass over them). A message without the header is one of the stream's JSON messages.
 */
export const STREAM_BYTES_SEQ_HEADER = 'Berth-Seq';

export function publishBytes(nc: NatsConnection, subject: string, seq: number, data: Uint8Array): void {
  const h = natsHeaders();
  h.set(STREAM_BYTES_SEQ_HEADER, String(seq));
  nc.publish(subject, data, { headers: h });
}

/** The sequence number of a binary message; undefined for a JSON one (or a malformed header, which is dropped). */
function bytesSeqOf(msg: Msg): number | undefined | null {
  const raw = msg.headers?.get(STREAM_BYTES_SEQ_HEADER);
  if (!raw) return undefined;
  return /^[1-9]\d{0,14}$/.test(raw) ? Number(raw) : null;
}

const decoder = new TextDecoder();

/**
 * One stream subject carrying both kinds: binary messages go to `onBytes`, the others are
 * JSON checked against `schema` (invalid ones are logged and dropped, as subscribeValidated does).
 */
export function subscribeStream<S extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  schema: S,
  onMessage: (msg: z.infer<S>) => void,
  onBytes: (seq: number, data: Uint8Array) => void,
  logger: Logger,
): Subscription {
  return nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) {
        logger.warn({ err, subject }, 'subscription error');
        return;
      }
      const seq = bytesSeqOf(msg);
      if (seq === null) {
        logger.warn({ subject }, 'dropped a binary message with a bad sequence header');
        return;
      }
      if (seq !== undefined) {
        onBytes(seq, msg.data);
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(decoder.decode(msg.data));
      } catch {
        body = undefined;
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        logger.warn({ subject }, 'dropped an invalid message');
        return;
      }
      onMessage(parsed.data);
    },
  });
}
