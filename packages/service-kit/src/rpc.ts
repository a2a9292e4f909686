import { BerthError, ErrorBodySchema, SUBJECTS, validationError, type ReplyOf, type RequestOf, type SubjectKey } from '@berth/contracts';
import { servedSubject, subjectOf } from './host-subjects.js';
import { RequestError, TimeoutError, headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { z } from 'zod';
import type { Span } from '@opentelemetry/api';
import type { Logger } from './logger.js';
import { isRedisUnreachable } from './redis.js';
import { extractTrace, injectTrace, inSpan, SpanKind, spanFailed, startSpan, traceIdOf, withTrace, type TraceContext } from './tracing.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface RequestOptions {
  timeoutMs?: number;
  /** The trace this request is part of (passed on in `traceparent`/`tracestate` headers); defaults to the active one. */
  trace?: TraceContext | undefined;
  /** For host-addressed subjects: the host to ask (else the workspace id's host, else the connection's). */
  hostId?: string | undefined;
}

function encode(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

function decode(data: Uint8Array): unknown {
  return JSON.parse(decoder.decode(data));
}

/** Maps transport failures to berth errors: nobody listening → 503, no answer in time → 504. */
function transportError(err: unknown, subject: string): BerthError {
  if (err instanceof RequestError && err.isNoResponders()) {
    return new BerthError('SERVICE_UNAVAILABLE', `no service is answering ${subject}`, { retryAfterSeconds: 1, cause: err });
  }
  if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError)) {
    return new BerthError('TIMEOUT', `${subject} did not answer in time`, { cause: err });
  }
  return new BerthError('SERVICE_UNAVAILABLE', `message bus unavailable for ${subject}`, { retryAfterSeconds: 1, cause: err });
}

/**
 * Typed request over core NATS: validates the request before sending and the reply after
 * receiving; an error reply becomes a thrown BerthError with the same code.
 */
export async function request<K extends SubjectKey>(nc: NatsConnection, key: K, data: RequestOf<K>, opts: RequestOptions = {}): Promise<ReplyOf<K>> {
  const entry = SUBJECTS[key];
  const parsed = entry.request.safeParse(data);
  if (!parsed.success) throw validationError(parsed.error, entry.subject);
  const subject = subjectOf(nc, key, parsed.data, opts.hostId);
  const span = { kind: SpanKind.CLIENT, parent: opts.trace, attributes: messagingAttributes(entry.subject) };
  return inSpan(`request ${entry.subject}`, span, () => send(nc, key, subject, parsed.data, opts.timeoutMs));
}

/** One request inside its client span, whose context goes in the headers. */
async function send<K extends SubjectKey>(nc: NatsConnection, key: K, subject: string, data: unknown, timeoutMs: number | undefined): Promise<ReplyOf<K>> {
  const entry = SUBJECTS[key];
  const h = natsHeaders();
  injectTrace((k, v) => h.set(k, v));
  let msg: Msg;
  try {
    msg = await nc.request(subject, encode(data), { timeout: timeoutMs ?? 10_000, headers: h });
  } catch (err) {
    throw transportError(err, subject);
  }
  let body: unknown;
  try {
    body = decode(msg.data);
  } catch (err) {
    throw new BerthError('INTERNAL', `malformed reply on ${entry.subject}`, { cause: err });
  }
  // Only a body with an `error` field can be one (a failed parse of every success reply costs).
  const asError = isObjectWith(body, 'error') ? ErrorBodySchema.safeParse(body) : undefined;
  if (asError?.success) throw BerthError.fromBody(asError.data);
  const reply = entry.reply.safeParse(body);
  if (!reply.success) throw new BerthError('INTERNAL', `malformed reply on ${entry.subject}`);
  return reply.data as ReplyOf<K>;
}

const isObjectWith = (v: unknown, key: string) => typeof v === 'object' && v !== null && key in v;

const messagingAttributes = (subject: string) => ({ 'messaging.system': 'nats', 'messaging.destination.name': subject });

export interface HandlerContext {
  /** The caller's trace id (a new one when it sent no well-formed `traceparent`). */
  traceId: string;
}

/** A request as the handler sees it: parsed, with defaults applied. */
export type ParsedRequestOf<K extends SubjectKey> = z.infer<(typeof SUBJECTS)[K]['request']>;
export type Handler<K extends SubjectKey> = (req: ParsedRequestOf<K>, ctx: HandlerContext) => Promise<ReplyOf<K>>;

/** What serve() has running on a connection, so drainNats can let it finish before closing. */
interface Served {
  subs: Set<Subscription>;
  inFlight: Set<Promise<void>>;
}
const servedBy = new WeakMap<NatsConnection, Served>();
/** Every caller's replies arrive under it (`_INBOX.<service>.` with NATS users). */
const INBOX_ROOT = '_INBOX.';

function servedOn(nc: NatsConnection): Served {
  let served = servedBy.get(nc);
  if (!served) {
    served = { subs: new Set(), inFlight: new Set() };
    servedBy.set(nc, served);
  }
  return served;
}

/**
 * Stops the subscriptions serve() made on `nc` (other members of the queue group take new
 * requests) and waits until every handler already running has replied. drainNats calls it.
 */
export async function settleHandlers(nc: NatsConnection): Promise<void> {
  const served = servedBy.get(nc);
  if (!served) return;
  await Promise.allSettled([...served.subs].map(async (sub) => sub.drain()));
  while (served.inFlight.size > 0) await Promise.allSettled([...served.inFlight]);
}

/**
 * Answers a subject in a queue group named after the serving service. Requests and replies are
 * validated; a BerthError travels back with its code; anything else becomes INTERNAL with a
 * generic message (the detail goes to the log, never to the caller).
 */
export function serve<K extends SubjectKey>(nc: NatsConnection, key: K, handler: Handler<K>, logger: Logger): Subscription {
  const entry = SUBJECTS[key];
  const served = servedOn(nc);
  const sub = nc.subscribe(servedSubject(nc, key), {
    queue: entry.servedBy,
    callback: (err, msg) => {
      if (err) {
        logger.error({ err, subject: entry.subject }, 'subscription error');
        return;
      }
      // Callers wait on an inbox. Anything else on a request subject was put there by JetStream for a
      // consumer whose deliver (or pull reply) subject someone aimed here, e.g. an outside subscriber
      // replaying events ({id, owner, ...}) into berth.container.delete: never a request.
      if (!msg.reply?.startsWith(INBOX_ROOT)) {
        logger.warn({ subject: entry.subject, reply: msg.reply }, 'message without an inbox to answer ignored');
        return;
      }
      const running = answer(entry.subject, msg, key, handler, logger).catch((e: unknown) => {
        logger.error({ err: e, subject: entry.subject }, 'answer failed');
      });
      served.inFlight.add(running);
      void running.finally(() => served.inFlight.delete(running));
    },
  });
  served.subs.add(sub);
  void sub.closed.finally(() => served.subs.delete(sub));
  return sub;
}

/**
 * One request, inside a server span of the caller's trace: every log line written while it is
 * handled carries the trace id, and requests it makes pass the trace on.
 */
async function answer<K extends SubjectKey>(subject: string, msg: Msg, key: K, handler: Handler<K>, logger: Logger): Promise<void> {
  const parent = extractTrace((k) => msg.headers?.get(k) || undefined);
  const { span, context } = startSpan(`answer ${subject}`, { kind: SpanKind.SERVER, parent, attributes: messagingAttributes(subject) });
  try {
    await withTrace(context, () => answerInTrace(subject, msg, key, handler, logger, span));
  } finally {
    span.end();
  }
}

async function answerInTrace<K extends SubjectKey>(subject: string, msg: Msg, key: K, handler: Handler<K>, logger: Logger, span: Span): Promise<void> {
  const entry = SUBJECTS[key];
  const started = performance.now();
  let reply: unknown;
  try {
    let body: unknown;
    try {
      body = decode(msg.data);
    } catch {
      throw new BerthError('INVALID_JSON', `request on ${subject} is not JSON`);
    }
    const parsed = entry.request.safeParse(body);
    if (!parsed.success) throw validationError(parsed.error, subject);
    const result = await handler(parsed.data as ParsedRequestOf<K>, { traceId: traceIdOf() ?? '' });
    reply = entry.reply.parse(result);
  } catch (err) {
    spanFailed(span, err);
    if (err instanceof BerthError) {
      reply = err.toBody();
    } else if (isRedisUnreachable(err)) {
      logger.warn({ err: (err as Error).message, subject }, 'state store unreachable');
      reply = new BerthError('SERVICE_UNAVAILABLE', 'state store unavailable; retry', { retryAfterSeconds: 1 }).toBody();
    } else {
      logger.error({ err, subject }, 'handler failed');
      reply = new BerthError('INTERNAL', 'internal error').toBody();
    }
  }
  if (msg.reply) msg.respond(encode(reply));
  // Checked first: the line's fields (an error-body parse of every reply) cost on every answer.
  if (logger.isLevelEnabled('debug'))
    logger.debug(
      {
        subject,
        ms: Math.round(performance.now() - started),
        ...(ErrorBodySchema.safeParse(reply).success && { error: (reply as { error: { code: string } }).error.code }),
      },
      'answered',
    );
}
