import { Writable } from 'node:stream';
import { BerthError } from '@berth/contracts';
import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createLogger, extractTrace, injectTrace, inSpan, spanOf, startSpan, startTracing, traceIdOf, withTrace } from '../src/index.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const headersOf = (carrier: Record<string, string>) => (k: string) => carrier[k];

/** The headers a request made inside `ctx` (in a new span, as request() makes one) carries. */
function onward(ctx: ReturnType<typeof extractTrace>): Record<string, string> {
  const out: Record<string, string> = {};
  injectTrace(
    (k, v) => {
      out[k] = v;
    },
    startSpan('child', { parent: ctx }).context,
  );
  return out;
}

describe('trace context through OpenTelemetry (W3C traceparent and tracestate)', () => {
  it('continues a well-formed traceparent with a new span id, its flags and its tracestate', () => {
    const next = onward(extractTrace(headersOf({ traceparent: TP, tracestate: 'vendor=abc,other=1' })));
    expect(next.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[\da-f]{16}-01$/);
    expect(next.traceparent).not.toBe(TP);
    expect(next.tracestate).toBe('vendor=abc,other=1');
    expect(onward(extractTrace(headersOf({ traceparent: TP.replace(/01$/, '00') }))).traceparent).toMatch(/-00$/);
  });

  it('ignores malformed traceparents: a new trace', () => {
    for (const bad of [
      '',
      'evil\r\nx',
      `ff${TP.slice(2)}`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`,
      `${TP}-extra`,
      'x'.repeat(2_000),
    ]) {
      expect(traceIdOf(extractTrace(headersOf({ traceparent: bad }))), bad).toBeUndefined();
      const fresh = onward(extractTrace(headersOf({ traceparent: bad })));
      expect(fresh.traceparent, bad).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);
      expect(fresh.traceparent, bad).not.toContain('4bf92f3577b34da6a3ce929d0e0e4736');
    }
  });

  it('log lines written inside a trace carry its trace_id, across awaits; outside they do not', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    });
    const logger = createLogger('trace-test', 'info', sink);
    const caller = extractTrace(headersOf({ traceparent: TP }));
    await withTrace(caller, () =>
      inSpan('work', {}, async () => {
        logger.info('before');
        await new Promise((r) => setTimeout(r, 5));
        logger.child({ part: 'x' }).info('after');
      }),
    );
    logger.info('outside');
    expect(traceIdOf()).toBeUndefined();
    expect(lines.map((l) => [l.msg, l.trace_id])).toEqual([
      ['before', '4bf92f3577b34da6a3ce929d0e0e4736'],
      ['after', '4bf92f3577b34da6a3ce929d0e0e4736'],
      ['outside', undefined],
    ]);
  });

  it('inSpan passes the result or the error through', async () => {
    await expect(inSpan('ok', {}, async () => 7)).resolves.toBe(7);
    await expect(inSpan('fails', {}, () => Promise.reject(new BerthError('TIMEOUT', 'slow')))).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('without an OTLP endpoint nothing records: spans only carry ids', async () => {
    const stop = await startTracing('no-exporter', {});
    const { span, context } = startSpan('plain');
    expect(span.isRecording()).toBe(false);
    expect(spanOf(context)).toBe(span);
    expect(trace.isSpanContextValid(span.spanContext())).toBe(true);
    await stop();
  });

  // Last in this file: it installs the OTLP SDK for the rest of the process.
  it('an empty OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (compose passes it through unset) falls back to OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const stop = await startTracing('empty-traces-endpoint', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    const { span } = startSpan('exported');
    expect(span.isRecording()).toBe(true);
    // Not ended: nothing to flush to an endpoint nobody listens on.
    await stop();
  });
});
