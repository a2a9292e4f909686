import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

/** W3C trace context (https://www.w3.org/TR/trace-context/): version-traceid-parentid-flags. */
const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

export interface TraceContext {
  /** What goes on in headers: this hop's `traceparent`. */
  traceparent: string;
  /** The 32 hex digits shared by every hop of one trace: the `trace_id` of log lines. */
  traceId: string;
}

/** A well-formed `traceparent` (version ff and all-zero ids are invalid), else undefined. */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value);
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  return { traceparent: value, traceId: m[2]! };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The trace of `incoming` when it is well-formed, else a new one; with a fresh parent id for this hop. */
export function continueTrace(incoming?: unknown): TraceContext {
  const parent = parseTraceparent(incoming);
  const traceId = parent?.traceId ?? hex(16);
  const flags = parent ? parent.traceparent.slice(-2) : '01';
  return { traceId, traceparent: `00-${traceId}-${hex(8)}-${flags}` };
}

const storage = new AsyncLocalStorage<TraceContext>();

/**
 * Runs `fn` inside a trace: log lines written meanwhile (by any logger from createLogger) carry
 * its `trace_id`, and `request()` passes it on in NATS headers.
 */
export function withTrace<T>(trace: TraceContext, fn: () => T): T {
  return storage.run(trace, fn);
}

export function currentTrace(): TraceContext | undefined {
  return storage.getStore();
}
