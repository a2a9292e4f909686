import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BerthError } from '@berth/contracts';
import { idOnlyTracerProvider } from './id-only-tracer.js';

export { SpanKind, SpanStatusCode, type Context as TraceContext, type Span } from '@opentelemetry/api';

// OpenTelemetry's globals, once per process: the active span follows async calls, W3C trace
// context (`traceparent`, `tracestate`) goes in and out of headers. The tracer records nothing
// until startTracing() finds an OTLP endpoint (see otlp-tracing.ts).
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(idOnlyTracerProvider);

const TRACER = 'berth';

export interface SpanStart {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; defaults to the active context. */
  parent?: Context | undefined;
}

/** Starts a span that the caller ends; `context` has it as the active span, for what runs under it. */
export function startSpan(name: string, opts: SpanStart = {}): { span: Span; context: Context } {
  const parent = opts.parent ?? context.active();
  const span = trace
    .getTracer(TRACER)
    .startSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, ...(opts.attributes && { attributes: opts.attributes }) }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** The span that `ctx` holds (a non-recording stand-in when it holds none). */
export function spanOf(ctx: Context): Span {
  return trace.getSpan(ctx) ?? trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
}

/** Marks a span failed: its stable code (a BerthError's, a setup failure's) or `INTERNAL`, never a message or a stack. */
export function spanFailed(span: Span, err: unknown): void {
  const own = err instanceof Error && 'code' in err && typeof err.code === 'string' && /^[A-Z][A-Z_]*$/.test(err.code) ? err.code : undefined;
  const code = err instanceof BerthError ? err.code : (own ?? 'INTERNAL');
  span.setAttribute('berth.error.code', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

/** Runs `fn` inside a new span (active meanwhile), ended when it settles; a throw marks it failed. */
export async function inSpan<T>(name: string, opts: SpanStart, fn: (span: Span) => Promise<T>): Promise<T> {
  const { span, context: ctx } = startSpan(name, opts);
  try {
    return await context.with(ctx, fn, undefined, span);
  } catch (err) {
    spanFailed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Runs `fn` with `ctx` active: log lines written meanwhile carry its trace id, requests pass it on. */
export function withTrace<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

/** Writes the trace of `ctx` (default: the active one) as `traceparent`/`tracestate` headers. */
export function injectTrace(set: (key: string, value: string) => void, ctx: Context = context.active()): void {
  propagation.inject(ctx, set, { set: (carrier, key, value) => carrier(key, value) });
}

/** The caller's trace from `traceparent`/`tracestate` headers (malformed ones are ignored: a new trace). */
export function extractTrace(get: (key: string) => string | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, get, { get: (carrier, key) => carrier(key), keys: () => ['traceparent', 'tracestate'] });
}

/** The trace id of `ctx` (default: the active one), if it has a span. */
export function traceIdOf(ctx: Context = context.active()): string | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc && trace.isSpanContextValid(sc) ? sc.traceId : undefined;
}

let otlp: Promise<() => Promise<void>> | undefined;

/**
 * Exports spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set: the SDK
 * is imported only then, so without it tracing costs no more than ids. Once per process; returns
 * a stopper that flushes buffered spans. runService calls it.
 */
export function startTracing(service: string, env: Record<string, string | undefined> = process.env): Promise<() => Promise<void>> {
  // Empty counts as unset (as OpenTelemetry's own env parsing has it): compose passes every OTEL_*
  // variable through, set or not.
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED === 'true') return Promise.resolve(async () => {});
  otlp ??= import('./otlp-tracing.js').then((m) => m.startOtlpTracing(service, env));
  return otlp;
}
