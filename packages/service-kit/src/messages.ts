import { BerthError } from '@berth/contracts';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { z } from 'zod';
import type { Logger } from './logger.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Publishes one message after validating it with its contracts schema (a bad one is a bug: it throws). */
export function publishValidated<S extends z.ZodType>(nc: NatsConnection, subject: string, schema: S, value: z.input<S>, logger?: Logger): void {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    logger?.error({ subject, issues: parsed.error.issues.slice(0, 3) }, 'refusing to publish an invalid message');
    throw new BerthError('INTERNAL', `invalid message for ${subject}`);
  }
  nc.publish(subject, encoder.encode(JSON.stringify(parsed.data)));
}

/** Subscribes and hands on only messages that are JSON and valid for `schema`; others are logged and dropped. */
export function subscribeValidated<S extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  schema: S,
  onMessage: (msg: z.infer<S>) => void,
  logger: Logger,
): Subscription {
  return nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) {
        logger.warn({ err, subject }, 'subscription error');
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
