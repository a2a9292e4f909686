import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { continueTrace, createLogger, currentTrace, parseTraceparent, withTrace } from '../src/index.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context', () => {
  it('parses well-formed traceparents only', () => {
    expect(parseTraceparent(TP)).toEqual({ traceparent: TP, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
    for (const bad of [undefined, 42, '', 'evil\r\nx', TP.toUpperCase(), `ff${TP.slice(2)}`, `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`, `${TP}-extra`]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    }
  });

  it('continues a trace with a new parent id and its flags, or starts a new one', () => {
    const next = continueTrace(TP);
    expect(next.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(next.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[\da-f]{16}-01$/);
    expect(next.traceparent).not.toBe(TP);
    expect(continueTrace(TP.replace(/01$/, '00')).traceparent.endsWith('-00')).toBe(true);
    const fresh = continueTrace('garbage');
    expect(parseTraceparent(fresh.traceparent)?.traceId).toBe(fresh.traceId);
    expect(continueTrace().traceId).not.toBe(fresh.traceId);
  });

  it('log lines written inside withTrace carry trace_id, across awaits; outside they do not', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
    const logger = createLogger('trace-test', 'info', sink);
    const trace = continueTrace(TP);
    await withTrace(trace, async () => {
      logger.info('before');
      await new Promise((r) => setTimeout(r, 5));
      logger.child({ part: 'x' }).info('after');
      expect(currentTrace()).toBe(trace);
    });
    logger.info('outside');
    expect(currentTrace()).toBeUndefined();
    expect(lines.map((l) => [l.msg, l.trace_id])).toEqual([
      ['before', trace.traceId], ['after', trace.traceId], ['outside', undefined],
    ]);
  });
});
