import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../src/callbacks/keyed-queue.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('KeyedQueue', () => {
  it('runs one item at a time per key, in order, keys in parallel up to the limit', async () => {
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const q = new KeyedQueue<number>(
      2,
      async (key, n) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        log.push(`${key}${n}+`);
        await tick(key === 'a' ? 20 : 2);
        log.push(`${key}${n}-`);
        running--;
      },
      (x, y) => x - y,
    );
    for (const n of [1, 2, 3]) for (const k of ['a', 'b', 'c']) q.push(k, n);
    await tick(1);
    await q.idle();
    expect(q.size).toBe(0);
    expect(maxRunning).toBe(2);
    for (const k of ['a', 'b', 'c']) {
      const mine = log.filter((l) => l.startsWith(k));
      expect(mine).toEqual([`${k}1+`, `${k}1-`, `${k}2+`, `${k}2-`, `${k}3+`, `${k}3-`]);
    }
    // a slow key does not hold back the others: b and c finish before a
    expect(log.indexOf('c3-')).toBeLessThan(log.indexOf('a3-'));
  });

  it('queues out-of-order arrivals in order', async () => {
    const seen: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const q = new KeyedQueue<number>(
      1,
      async (_k, n) => {
        if (n === 1) await gate;
        seen.push(n);
      },
      (x, y) => x - y,
    );
    q.push('a', 1);
    q.push('a', 4);
    q.push('a', 2);
    q.push('a', 3);
    release();
    await tick();
    await q.idle();
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('after stop() starts nothing new; an error in one item does not stop its key', async () => {
    const seen: number[] = [];
    const errors: unknown[] = [];
    const q = new KeyedQueue<number>(
      1,
      async (_k, n) => {
        await tick();
        if (n === 1) throw new Error('boom');
        seen.push(n);
      },
      (x, y) => x - y,
      (e) => errors.push(e),
    );
    q.push('a', 1);
    q.push('a', 2);
    await q.idle();
    expect(seen).toEqual([2]);
    expect(errors).toHaveLength(1);
    q.push('b', 3);
    q.stop();
    q.push('b', 4);
    await q.idle();
    await tick(20);
    expect(seen).not.toContain(4);
  });
});
