import { randomBytes } from 'node:crypto';
import { context, trace, TraceFlags, type Context, type Span, type SpanContext, type SpanOptions, type Tracer, type TracerProvider } from '@opentelemetry/api';

/**
 * The tracer when no exporter is configured: it records nothing, but every span still gets ids
 * (the caller's trace id, or a new one) so log lines carry a `trace_id` and NATS headers pass the
 * trace on. Costs what the hand-rolled W3C context did: a few random bytes per span.
 */
class IdOnlyTracer implements Tracer {
  startSpan(_name: string, _options?: SpanOptions, ctx: Context = context.active()): Span {
    const parent = trace.getSpanContext(ctx);
    const continued = parent && trace.isSpanContextValid(parent);
    const spanContext: SpanContext = {
      traceId: continued ? parent.traceId : randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      traceFlags: continued ? parent.traceFlags : TraceFlags.SAMPLED,
      ...(continued && parent.traceState && { traceState: parent.traceState }),
    };
    return trace.wrapSpanContext(spanContext);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: [F] | [SpanOptions, F] | [SpanOptions, Context, F]): ReturnType<F> {
    const fn = args.at(-1) as F;
    const options = args.length > 1 ? (args[0] as SpanOptions) : undefined;
    const parent = args.length > 2 ? (args[1] as Context) : context.active();
    const span = this.startSpan(name, options, parent);
    return context.with(trace.setSpan(parent, span), () => fn(span)) as ReturnType<F>;
  }
}

const tracer = new IdOnlyTracer();

export const idOnlyTracerProvider: TracerProvider = { getTracer: () => tracer };
