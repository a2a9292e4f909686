import { describe, expect, it } from 'vitest';
import type { OutputChunk } from '../src/driver/exec-process.js';
import { ByteBucket, OutputBudgets } from '../src/output-budget.js';

const KIB = 1024;

describe('ByteBucket', () => {
  it('lets a burst through at once, then refills at its rate up to the burst', () => {
    let now = 0;
    const bucket = new ByteBucket(100 * KIB, 200 * KIB, () => now);
    bucket.charge(200 * KIB);
    expect(bucket.waitMs()).toBe(0);
    bucket.charge(50 * KIB);
    expect(bucket.waitMs()).toBe(500);
    now = 250;
    expect(bucket.waitMs()).toBe(250);
    now = 500;
    expect(bucket.waitMs()).toBe(0);
    now = 100_000;
    expect(bucket.full()).toBe(true);
    // Idle time banks no more than one burst.
    bucket.charge(200 * KIB + 1);
    expect(bucket.waitMs()).toBe(1);
  });
});

describe('OutputBudgets', () => {
  /** A fake clock that a wait moves forward, and an endless command writing `chunk`-byte reads. */
  function world(rate: number, burst: number) {
    let now = 0;
    const budgets = new OutputBudgets(
      rate,
      burst,
      () => now,
      (ms) => {
        now += ms;
        return Promise.resolve();
      },
    );
    async function* flood(chunk: number): AsyncGenerator<OutputChunk> {
      for (;;) yield { stream: 'stdout', data: Buffer.alloc(chunk) };
    }
    return { budgets, flood, elapsed: () => now };
  }

  it('reads no more than burst + rate·t (plus the one read in debt) from an endless command', async () => {
    const w = world(100 * KIB, 400 * KIB);
    let read = 0;
    for await (const c of w.budgets.throttle('ws-a', w.flood(64 * KIB))) {
      read += c.data.length;
      if (w.elapsed() >= 10_000) break;
    }
    const allowed = 400 * KIB + (100 * KIB * w.elapsed()) / 1000;
    expect(read).toBeLessThanOrEqual(allowed + 64 * KIB);
    expect(read).toBeGreaterThanOrEqual(allowed - 64 * KIB);
  });

  it('charges every command of a workspace to one budget, and each workspace to its own', async () => {
    const w = world(100 * KIB, 100 * KIB);
    const take = async (id: string, n: number) => {
      const it = w.budgets.throttle(id, w.flood(100 * KIB))[Symbol.asyncIterator]();
      for (let i = 0; i < n; i++) await it.next();
      await it.return(undefined);
    };
    await take('ws-a', 2); // the burst, and one read in debt
    expect(w.elapsed()).toBe(0);
    await take('ws-a', 1); // a new command of the same workspace waits for the debt to be paid
    expect(w.elapsed()).toBe(1_000);
    await take('ws-b', 1); // another workspace does not wait
    expect(w.elapsed()).toBe(1_000);
  });

  it('passes output through unchanged and ends when the command does', async () => {
    const w = world(KIB, KIB);
    async function* two(): AsyncGenerator<OutputChunk> {
      yield { stream: 'stdout', data: Buffer.from('out') };
      yield { stream: 'stderr', data: Buffer.from('err') };
    }
    const seen: string[] = [];
    for await (const c of w.budgets.throttle('ws-a', two())) seen.push(`${c.stream}:${c.data.toString()}`);
    expect(seen).toEqual(['stdout:out', 'stderr:err']);
    expect(w.elapsed()).toBe(0);
  });
});

describe('OutputBudgets, once the command is killed', () => {
  it('lets the rest go instead of waiting for the budget, but reads it while the budget allows', async () => {
    let now = 0;
    const killed = new AbortController();
    const budgets = new OutputBudgets(
      1024,
      2048,
      () => now,
      (ms) => {
        now += ms;
        return Promise.resolve();
      },
    );
    let pulled = 0;
    async function* flood(): AsyncGenerator<OutputChunk> {
      for (;;) {
        pulled += 1;
        yield { stream: 'stdout', data: Buffer.alloc(1024) };
      }
    }
    let read = 0;
    for await (const c of budgets.throttle('ws-a', flood(), killed.signal)) {
      read += c.data.length;
      killed.abort();
    }
    // Two reads in the burst, one in debt: then the budget says wait, and a killed command does not.
    expect(read).toBe(3 * 1024);
    expect(pulled).toBe(3);
    expect(now).toBe(0);
  });
});
