import type { SetupStatus } from '@berth/contracts';
import { createLogger } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import { backoffMs, Deliverer, type DelivererOptions } from '../src/callbacks/deliverer.js';
import type { Attempt, AttemptResult } from '../src/callbacks/send.js';

const logger = createLogger('test', 'silent');
const status: SetupStatus = {
  id: 'ws_0123456789abcdef',
  seq: 3,
  phase: 'installing',
  repo: 'acme/app',
  branch: 'main',
  at: '2026-01-01T00:00:00.000Z',
  startedAt: '2026-01-01T00:00:00.000Z',
  durations: {},
};

function deliverer(results: AttemptResult[], over: Partial<DelivererOptions> = {}) {
  const attempts: Attempt[] = [];
  const d = new Deliverer(
    {
      maxAttempts: 4,
      retryBaseMs: 1,
      retryMaxMs: 4,
      lookup: async () => ({ url: 'https://h.example.com/', secret: 's'.repeat(16) }),
      send: async (a) => {
        attempts.push(a);
        return results.shift() ?? { ok: false, reason: 'HTTP 500' };
      },
      ...over,
    },
    logger,
  );
  return { d, attempts };
}

describe('Deliverer', () => {
  it('retries failures and stops at the first 2xx; every attempt has the same event id', async () => {
    const { d, attempts } = deliverer([
      { ok: false, reason: 'HTTP 500' },
      { ok: false, reason: 'HTTP 302' },
      { ok: true, status: 204 },
    ]);
    expect(await d.deliver(status, new AbortController().signal)).toBe('delivered');
    expect(attempts.map((a) => [a.attempt, a.eventId])).toEqual([
      [1, 'ws_0123456789abcdef:3'],
      [2, 'ws_0123456789abcdef:3'],
      [3, 'ws_0123456789abcdef:3'],
    ]);
    expect(JSON.parse(attempts[0]!.body)).toEqual(status);
  });

  it('an attempt that throws counts as a failed attempt, not a stuck status', async () => {
    let n = 0;
    const { d } = deliverer([], {
      send: async () => {
        if (++n === 1) throw new Error('bug');
        return { ok: true, status: 200 };
      },
    });
    expect(await d.deliver(status, new AbortController().signal)).toBe('delivered');
    expect(n).toBe(2);
  });

  it('gives up after maxAttempts', async () => {
    const { d, attempts } = deliverer([]);
    expect(await d.deliver(status, new AbortController().signal)).toBe('gave_up');
    expect(attempts).toHaveLength(4);
  });

  it('skips a workspace without registration, waits out a store outage, stops when aborted', async () => {
    expect(await deliverer([], { lookup: async () => undefined }).d.deliver(status, new AbortController().signal)).toBe('skipped');
    let calls = 0;
    const flaky = deliverer([{ ok: true, status: 200 }], {
      lookup: async () => {
        if (++calls < 3) throw new Error('redis down');
        return { url: 'https://h.example.com/', secret: 's'.repeat(16) };
      },
      random: () => 0,
    });
    expect(await flaky.d.deliver(status, new AbortController().signal)).toBe('delivered');
    expect(calls).toBe(3);
    const ac = new AbortController();
    const slow = deliverer([], { retryBaseMs: 10_000, retryMaxMs: 10_000 });
    const p = slow.d.deliver(status, ac.signal);
    setTimeout(() => ac.abort(), 20);
    expect(await p).toBe('stopped');
    expect(slow.attempts).toHaveLength(1);
  });

  it('backoff doubles, is capped and jittered within [step/2, step]', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 500, 60_000, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffMs(20, 500, 60_000, () => 1)).toBe(60_000);
    expect(backoffMs(3, 500, 60_000, () => 0)).toBe(1000);
  });
});
