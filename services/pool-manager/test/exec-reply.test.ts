import type { ExecResult } from '@berth/contracts';
import { describe, expect, it } from 'vitest';
import { fitExecResult } from '../src/exec-reply.js';

const result = (stdout: string, stderr = ''): ExecResult => ({
  exitCode: 0,
  stdout,
  stderr,
  stdoutTruncated: false,
  stderrTruncated: false,
  truncated: false,
  timedOut: false,
  durationMs: 12,
});
const size = (r: ExecResult) => Buffer.byteLength(JSON.stringify(r));

describe('fitExecResult', () => {
  it('leaves a reply that fits untouched', () => {
    const r = result('hello', 'world');
    expect(fitExecResult(r, 1_000)).toBe(r);
  });

  it('cuts the tail of a stream that does not fit and marks it truncated', () => {
    const fitted = fitExecResult(result('a'.repeat(5_000), 'err'), 1_000);
    expect(size(fitted)).toBeLessThanOrEqual(1_000);
    expect(fitted.stdout).toMatch(/^a+$/);
    expect(fitted.stdout.length).toBeGreaterThan(700);
    expect(fitted).toMatchObject({ stderr: 'err', stdoutTruncated: true, stderrTruncated: false, truncated: true });
  });

  it('shares the room between two large streams', () => {
    const fitted = fitExecResult(result('o'.repeat(5_000), 'e'.repeat(5_000)), 1_000);
    expect(size(fitted)).toBeLessThanOrEqual(1_000);
    expect(Math.abs(fitted.stdout.length - fitted.stderr.length)).toBeLessThanOrEqual(1);
    expect(fitted).toMatchObject({ stdoutTruncated: true, stderrTruncated: true, truncated: true });
  });

  it('counts JSON escapes and multi-byte characters, never splitting a surrogate pair', () => {
    for (const unit of ['\0', '"', '\n', 'é', '€', '😀', '\ud800']) {
      const fitted = fitExecResult(result(unit.repeat(3_000)), 1_000);
      expect(size(fitted), JSON.stringify(unit)).toBeLessThanOrEqual(1_000);
      expect(size(fitted), JSON.stringify(unit)).toBeGreaterThan(1_000 - 12);
      expect(fitted.stdout.length % unit.length).toBe(0);
      expect(fitted.stdoutTruncated).toBe(true);
    }
  });

  it('keeps a truncation the driver already reported', () => {
    const fitted = fitExecResult({ ...result('x'.repeat(2_000), 'y'), stderrTruncated: true, truncated: true }, 1_000);
    expect(fitted).toMatchObject({ stdoutTruncated: true, stderrTruncated: true, truncated: true, stderr: 'y' });
  });
});
