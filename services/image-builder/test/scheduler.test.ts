import { describe, expect, it } from 'vitest';
import { KeyedScheduler } from '../src/scheduler.js';

interface J {
  key: string;
  n: number;
}

/** A job runner whose jobs finish only when the test says so. */
function harness(limit: number) {
  const log: string[] = [];
  const finish = new Map<number, () => void>();
  const superseded: [number, number][] = [];
  const s = new KeyedScheduler<J>(
    limit,
    (job) => {
      log.push(`start ${job.n}`);
      return new Promise<void>((resolve) =>
        finish.set(job.n, () => {
          log.push(`end ${job.n}`);
          resolve();
        }),
      );
    },
    (old, by) => superseded.push([old.n, by.n]),
  );
  const done = async (n: number) => {
    finish.get(n)?.();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { s, log, done, superseded };
}

describe('KeyedScheduler', () => {
  it('runs one job per key at a time and different keys side by side', async () => {
    const { s, log, done } = harness(4);
    s.submit({ key: 'a', n: 1 });
    s.submit({ key: 'b', n: 2 });
    s.submit({ key: 'a', n: 3 });
    expect(log).toEqual(['start 1', 'start 2']);
    expect(s.held).toBe(3);
    await done(2);
    expect(log).toEqual(['start 1', 'start 2', 'end 2']);
    await done(1);
    expect(log).toEqual(['start 1', 'start 2', 'end 2', 'end 1', 'start 3']);
    await done(3);
    expect(s.held).toBe(0);
  });

  it('a newer job for a busy key replaces the waiting one', async () => {
    const { s, log, done, superseded } = harness(4);
    s.submit({ key: 'a', n: 1 });
    s.submit({ key: 'a', n: 2 });
    s.submit({ key: 'a', n: 3 });
    expect(superseded).toEqual([[2, 3]]);
    expect(s.held).toBe(2);
    await done(1);
    expect(log).toEqual(['start 1', 'end 1', 'start 3']);
    await done(3);
  });

  it('room() waits while the limit is held and resolves when a job ends', async () => {
    const { s, done } = harness(2);
    s.submit({ key: 'a', n: 1 });
    s.submit({ key: 'b', n: 2 });
    let free = false;
    const waiting = s.room().then(() => {
      free = true;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(free).toBe(false);
    await done(1);
    await waiting;
    expect(free).toBe(true);
    await done(2);
    await s.idle();
  });

  it('a failing job frees its key for the next', async () => {
    const ran: number[] = [];
    const s = new KeyedScheduler<J>(
      2,
      async (job) => {
        ran.push(job.n);
        if (job.n === 1) throw new Error('boom');
      },
      () => undefined,
    );
    s.submit({ key: 'a', n: 1 });
    s.submit({ key: 'a', n: 2 });
    await s.idle();
    expect(ran).toEqual([1, 2]);
    expect(s.held).toBe(0);
  });
});
