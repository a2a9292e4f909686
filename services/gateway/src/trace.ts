import type { IncomingMessage } from 'node:http';
import { extractTrace, SpanKind, spanOf, SpanStatusCode, startSpan, type TraceContext } from '@berth/service-kit';
import type { FastifyInstance } from 'fastify';

const traces = new WeakMap<IncomingMessage, TraceContext>();

/**
 * The trace of one HTTP request: a server span, child of the caller's `traceparent`/`tracestate`
 * when well-formed (else of a new trace). Made once per request; the request's log lines carry
 * its trace id and every NATS request made for it is its child.
 */
export function traceOf(raw: IncomingMessage): TraceContext {
  let trace = traces.get(raw);
  if (!trace) {
    const header = (key: string) => (typeof raw.headers[key] === 'string' ? raw.headers[key] : undefined);
    trace = startSpan(raw.method ?? 'HTTP', {
      kind: SpanKind.SERVER,
      parent: extractTrace(header),
      attributes: { 'http.request.method': raw.method ?? '' },
    }).context;
    traces.set(raw, trace);
  }
  return trace;
}

/**
 * Names each request's span after its route (never its URL: a query may hold a ticket) and ends
 * it when the response is done or the connection closes. Registered first, so every request
 * that gets an answer, early ones included, has its span ended.
 */
export function traceHttpRequests(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.url;
    const span = spanOf(traceOf(req.raw));
    if (route) span.updateName(`${req.method} ${route}`).setAttribute('http.route', route);
    reply.raw.once('close', () => {
      span.setAttribute('http.response.status_code', reply.raw.statusCode);
      if (reply.raw.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
  });
}
