import { describe, expect, it } from 'vitest';
import { RETURN_CHECK_MAX_MS, ReturnCheck } from '../src/host/return-check.js';

describe('when a pool-manager looks for its own loss marker (not on every half beat: it is a Redis call)', () => {
  const ticking = () => {
    let t = 1_000_000;
    const check = new ReturnCheck(() => t);
    return { check, advance: (ms: number) => (t += ms) };
  };

  it('skips the ticks in between, and looks at least every RETURN_CHECK_MAX_MS', () => {
    const { check, advance } = ticking();
    const looked: number[] = [];
    for (let i = 1; i <= 40; i++) {
      advance(500);
      if (check.due()) looked.push(i * 500);
    }
    expect(looked).toEqual([5_000, 10_000, 15_000, 20_000]);
    expect(RETURN_CHECK_MAX_MS).toBe(5_000);
  });

  it('looks on the tick after a stall (its own heartbeats stopped too: peers may have counted it lost)', () => {
    const { check, advance } = ticking();
    advance(500);
    expect(check.due()).toBe(false);
    advance(3_500);
    expect(check.due()).toBe(true);
    advance(500);
    expect(check.due()).toBe(false);
  });
});
