import { describe, expect, it } from 'vitest';
import { LOG_BATCH_MAX_LINES, LogMessageSchema, logEventId, parseLogEventId, parseLogMessage } from '../src/logs.js';

const ts = '2026-01-01T00:00:00.123456789Z';
const line = (n: number, extra: object = {}) => ({ ts, n, line: `l${n}`, ...extra });

describe('LOGS messages', () => {
  it('parses a batch by hand exactly as the schema does', () => {
    const batch = { before: 5, lines: [line(0), line(1, { cont: true }), line(2)] };
    expect(parseLogMessage(batch)).toEqual(LogMessageSchema.parse(batch));
    expect(parseLogMessage(batch)).toEqual(batch);
  });

  it("reads the setup stream's phase of a line, and refuses one that is not a setup phase", () => {
    const batch = { before: 0, lines: [line(0, { phase: 'installing' }), line(1, { phase: 'ready' })] };
    expect(parseLogMessage(batch)).toEqual(LogMessageSchema.parse(batch));
    const bad = { before: 0, lines: [line(0, { phase: 'hacking' })] };
    expect(() => parseLogMessage(bad)).toThrow();
    expect(LogMessageSchema.safeParse(bad).success).toBe(false);
  });

  it('reads a bare line, as stored before batches, as a batch of one', () => {
    expect(parseLogMessage(line(3))).toEqual({ before: 0, lines: [line(3)] });
  });

  it('refuses what the schema refuses', () => {
    const bad = [
      null,
      'x',
      {},
      { before: 0, lines: [] },
      { before: -1, lines: [line(0)] },
      { before: 0.5, lines: [line(0)] },
      { before: 0, lines: [line(-1)] },
      { before: 0, lines: [{ ...line(0), ts: '2026-01-01T00:00:00Z' }] },
      { before: 0, lines: [line(0, { cont: false })] },
      { before: 0, lines: [{ ts, n: 0 }] },
      { before: 0, lines: Array.from({ length: LOG_BATCH_MAX_LINES + 1 }, (_, i) => line(i)) },
    ];
    for (const b of bad) {
      expect(() => parseLogMessage(b), JSON.stringify(b).slice(0, 80)).toThrow();
      expect(LogMessageSchema.safeParse(b).success).toBe(false);
    }
  });

  it('event ids grow line by line and name the message and the index', () => {
    const ids = [logEventId(7, 0), logEventId(7, 1), logEventId(7, LOG_BATCH_MAX_LINES - 1), logEventId(8, 0)];
    expect(ids.every((v, i) => i === 0 || v > ids[i - 1]!)).toBe(true);
    expect(parseLogEventId(logEventId(123_456, 4_321))).toEqual({ seq: 123_456, index: 4_321 });
  });
});
