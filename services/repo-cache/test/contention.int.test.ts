import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, createRedis, type Redis } from '@berth/service-kit';
import { repoRoot, type ServiceProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RepoLocks } from '../src/repo-lock.js';
import { RepoSyncer } from '../src/syncer.js';
import { startHarness, startRepoCache, sync, waitFor, type Harness } from './helpers.js';

// Several repo-cache instances sharing one mirrors directory and one Redis, as on one host.
let h: Harness;
let a: ServiceProcess;
let b: ServiceProcess | undefined;
let redis: Redis;

beforeAll(async () => {
  h = await startHarness({ REPO_LOCK_WAIT_MS: '15000' });
  await h.gh.createRepo('acme/web', { fromDir: join(repoRoot(), 'test', 'fixtures', 'node-app') });
  redis = createRedis({ url: h.redis.url, name: 'test', logger: createLogger('test', 'warn') });
  a = await startRepoCache(h);
  await sync(h.nc, { repo: 'acme/web' });
});

afterAll(async () => {
  await a?.kill('SIGTERM');
  await b?.kill('SIGTERM');
  redis?.disconnect();
  await h?.dispose();
  if (h) rmSync(h.mirrors, { recursive: true, force: true });
});

const fetchesOf = (repo: string) => h.gh.requestsFor(repo, true).length;

describe('repo-cache across processes', () => {
  test('a second instance contending for the lock waits and reuses the fetch instead of fetching again', async () => {
    // The contender is a RepoSyncer in this test process: its own memory and Redis connection, so
    // the only thing keeping both from fetching is the Redis lock and the recorded fetch time.
    const other = new RepoSyncer({
      root: h.mirrors,
      upstream: { url: (repo) => `${h.gh.url}/${repo}.git`, proxy: undefined, timeoutMs: 30_000 },
      locks: new RepoLocks(redis, `berth:repo-cache:${h.hostId}`, { ttlMs: 1_500, waitMs: 15_000, pollMs: 20 }),
      logger: createLogger('contender', 'warn'),
      metrics: { fetched: () => undefined, shared: () => undefined },
    });
    const sha = await h.gh.commit('acme/web', { 'A.md': 'a\n' });
    const before = fetchesOf('acme/web');
    h.gh.delayMs = 800;
    try {
      const [viaService, viaOther] = await Promise.all([
        sync(h.nc, { repo: 'acme/web', branch: 'main' }),
        new Promise((r) => setTimeout(r, 100)).then(() => other.sync({ repo: 'acme/web', branch: 'main' })),
      ]);
      expect(viaService.sha).toBe(sha);
      expect(viaOther.sha).toBe(sha);
      expect([viaService.fetched, viaOther.fetched].sort()).toEqual([false, true]);
    } finally {
      h.gh.delayMs = 0;
    }
    expect(fetchesOf('acme/web') - before).toBe(1);
  });

  test('two repo-cache processes answering 10 concurrent syncs fetch once', async () => {
    b = await startRepoCache(h);
    const sha = await h.gh.commit('acme/web', { 'B.md': 'b\n' });
    const before = fetchesOf('acme/web');
    h.gh.delayMs = 500;
    try {
      const replies = await Promise.all(Array.from({ length: 10 }, () => sync(h.nc, { repo: 'acme/web', branch: 'main' })));
      expect(replies.every((r) => r.sha === sha)).toBe(true);
    } finally {
      h.gh.delayMs = 0;
    }
    expect(fetchesOf('acme/web') - before).toBe(1);
    await b.kill('SIGTERM');
    b = undefined;
  });

  test('a holder killed mid-fetch leaves a lock that expires; the next sync then fetches', async () => {
    const sha = await h.gh.commit('acme/web', { 'C.md': 'c\n' });
    const before = fetchesOf('acme/web');
    h.gh.delayMs = 4_000;
    const pending = sync(h.nc, { repo: 'acme/web', branch: 'main' }, 2_000).catch((e: unknown) => e);
    await waitFor('the fetch to reach upstream', () => fetchesOf('acme/web') > before);
    const lockKey = `berth:repo-cache:${h.hostId}:lock:acme/web`;
    expect(await redis.pttl(lockKey)).toBeGreaterThan(0);
    await a.kill('SIGKILL');
    h.gh.delayMs = 0;
    expect(await pending).toMatchObject({ code: 'TIMEOUT' });
    expect(await redis.exists(lockKey)).toBe(1); // nobody released it

    a = await startRepoCache(h);
    const r = await sync(h.nc, { repo: 'acme/web', branch: 'main' }, 20_000);
    expect(r.sha).toBe(sha);
    expect(await redis.exists(lockKey)).toBe(0);
  });
});
