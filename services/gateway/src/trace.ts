import type { IncomingMessage } from 'node:http';
import { continueTrace, type TraceContext } from '@berth/service-kit';

const traces = new WeakMap<IncomingMessage, TraceContext>();

/**
 * The trace of one HTTP request: the caller's `traceparent` when well-formed (else a new trace),
 * with the gateway's own parent id. Computed once per request; the request's log lines carry its
 * `trace_id` and every NATS request made for it carries the `traceparent`.
 */
export function traceOf(raw: IncomingMessage): TraceContext {
  let trace = traces.get(raw);
  if (!trace) {
    trace = continueTrace(raw.headers.traceparent);
    traces.set(raw, trace);
  }
  return trace;
}
