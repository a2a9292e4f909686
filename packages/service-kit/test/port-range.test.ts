import { describe, expect, it } from 'vitest';
import { portRange } from '../src/testing/port-range.js';

describe('portRange', () => {
  it('gives each worker its own band, so files running at once never share a port', () => {
    const env = (id: number) => ({ VITEST_POOL_ID: String(id), BERTH_TEST_WORKERS: '3' });
    for (let i = 0; i < 200; i++) {
      const ranges = [1, 2, 3].map((id) => portRange(100, env(id)));
      for (const [a, b] of [
        [0, 1],
        [1, 2],
        [0, 2],
      ] as const) {
        const ra = ranges[a],
          rb = ranges[b];
        expect(ra && rb && (ra.hi < rb.lo || rb.hi < ra.lo)).toBe(true);
      }
      for (const r of ranges) {
        expect(r.lo).toBeGreaterThanOrEqual(20_000);
        expect(r.hi).toBeLessThan(32_000);
        expect(r.spec).toBe(`${r.lo}-${r.hi}`);
      }
    }
  });

  it('refuses a block larger than 100', () => {
    expect(() => portRange(101)).toThrow(RangeError);
  });
});
