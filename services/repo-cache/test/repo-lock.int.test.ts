import { createLogger, createRedis, type Redis } from '@berth/service-kit';
import { startRedisServer, type ServerProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RepoLocks } from '../src/repo-lock.js';

let server: ServerProcess & { url: string };
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedis({ url: server.url, name: 'test', logger: createLogger('test', 'warn') });
});

afterAll(async () => {
  redis?.disconnect();
  await server?.dispose();
});

describe('per-repo Redis lock', () => {
  test('a second taker waits for the release and gets a larger fence', async () => {
    const locks = new RepoLocks(redis, 'p1', { ttlMs: 5_000, waitMs: 5_000, pollMs: 20 });
    const first = await locks.acquire('a/b');
    let secondAt = 0;
    const second = locks.acquire('a/b').then((l) => {
      secondAt = Date.now();
      return l;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(secondAt).toBe(0);
    const releasedAt = Date.now();
    await first.release();
    const l2 = await second;
    expect(secondAt).toBeGreaterThanOrEqual(releasedAt);
    expect(l2.fence).toBeGreaterThan(first.fence);
    await l2.release();
    expect(await redis.exists(locks.lockKey('a/b'))).toBe(0);
  });

  test('the lock is renewed while held, so it outlives its ttl', async () => {
    const locks = new RepoLocks(redis, 'p2', { ttlMs: 300, waitMs: 100, pollMs: 20 });
    const held = await locks.acquire('a/b');
    await new Promise((r) => setTimeout(r, 900));
    expect(await held.stillHeld()).toBe(true);
    await expect(locks.acquire('a/b')).rejects.toMatchObject({ code: 'TIMEOUT' });
    await held.release();
  });

  test("a crashed holder's lock expires and can be taken", async () => {
    const locks = new RepoLocks(redis, 'p3', { ttlMs: 400, waitMs: 5_000, pollMs: 20 });
    await redis.set(locks.lockKey('a/b'), 'crashed-holder', 'PX', 400, 'NX');
    const t0 = Date.now();
    const l = await locks.acquire('a/b');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(await redis.get(locks.lockKey('a/b'))).toBe(l.value);
    await l.release();
  });

  test('a holder whose lock expired and was taken is stale: stillHeld is false, its release leaves the new lock alone', async () => {
    const locks = new RepoLocks(redis, 'p4', { ttlMs: 5_000, waitMs: 5_000, pollMs: 20 });
    const stale = await locks.acquire('a/b');
    await redis.del(locks.lockKey('a/b')); // as if it had expired while the holder was paused
    const fresh = await locks.acquire('a/b');
    expect(fresh.fence).toBeGreaterThan(stale.fence);
    expect(await stale.stillHeld()).toBe(false);
    expect(stale.signal.aborted).toBe(true);
    await stale.release();
    expect(await fresh.stillHeld()).toBe(true);
    await fresh.release();
  });

  test('a fence counter lost with Redis data restarts above the fence a mirror recorded', async () => {
    const locks = new RepoLocks(redis, 'p5', { ttlMs: 5_000, waitMs: 5_000, pollMs: 20 });
    const l = await locks.acquire('a/b');
    expect(l.fence).toBe(1);
    await l.raiseFenceAbove(41);
    expect(l.fence).toBe(42);
    await l.release();
    expect((await locks.acquire('a/b')).fence).toBe(43);
  });
});
