import { statSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '@berth/contracts';
import { freePort, repoRoot, type ServiceProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findSecret, redisEntries } from '../../../test/support/secret-scan.js';
import { filesUnder, processCmdlines, rawSync, startHarness, startRepoCache, sync, unreadable, type Harness } from './helpers.js';

// repo-cache as a real process against real nats-server, redis-server and a git smart-HTTP fake GitHub.
const TOKEN = 'ghp_repoCacheSecret0123456789abcdefXYZ';
let h: Harness;
let rc: ServiceProcess;
let healthPort: number;

/** One sample of repo-cache's Prometheus metrics, 0 when absent. */
async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

beforeAll(async () => {
  h = await startHarness();
  await h.gh.createRepo('acme/web', { fromDir: join(repoRoot(), 'test', 'fixtures', 'node-app') });
  await h.gh.createRepo('acme/secret', { token: TOKEN });
  await h.gh.commit('acme/secret', { 'README.md': 'private\n' });
  healthPort = await freePort();
  rc = await startRepoCache(h, { REPO_CACHE_HEALTH_PORT: String(healthPort) });
});

afterAll(async () => {
  await rc?.kill('SIGTERM');
  await h?.dispose();
  if (h) rmSync(h.mirrors, { recursive: true, force: true });
});

const fetchesOf = (repo: string) => h.gh.requestsFor(repo, true);

describe('repo-cache sync', () => {
  test('the first sync clones a world-readable bare mirror; the next one fetches into it', async () => {
    const first = await sync(h.nc, { repo: 'acme/web', branch: 'main' });
    const mainSha = await h.gh.revParse('acme/web', 'main');
    expect(first).toMatchObject({ repo: 'acme/web', mirror: 'acme/web.git', sha: mainSha, defaultBranch: 'main', defaultSha: mainSha, fetched: true });
    expect(fetchesOf('acme/web')).toHaveLength(1);
    expect(fetchesOf('acme/web')[0]?.haves).toBe(0);
    const mirror = join(h.mirrors, 'acme/web.git');
    expect(statSync(join(mirror, 'HEAD')).isFile()).toBe(true);
    expect(unreadable(h.mirrors).filter((p) => !p.includes('/.tmp'))).toEqual([]);
    const inode = statSync(mirror).ino;

    const next = await h.gh.commit('acme/web', { 'CHANGE.md': 'one\n' });
    const second = await sync(h.nc, { repo: 'acme/web', branch: 'main' });
    expect(second).toMatchObject({ sha: next, defaultSha: next, fetched: true });
    expect(fetchesOf('acme/web')).toHaveLength(2);
    expect(fetchesOf('acme/web')[1]?.haves).toBeGreaterThan(0); // an incremental fetch, not a clone
    expect(statSync(mirror).ino).toBe(inode);
  });

  test('maxAgeMs answers from a fresh mirror without asking upstream', async () => {
    const before = h.gh.requestsFor('acme/web').length;
    const r = await sync(h.nc, { repo: 'acme/web', maxAgeMs: 60_000 });
    expect(r.fetched).toBe(false);
    expect(h.gh.requestsFor('acme/web').length).toBe(before);
    const fetchedAgain = await sync(h.nc, { repo: 'acme/web', maxAgeMs: 0 });
    expect(fetchedAgain.fetched).toBe(true);
  });

  test('10 concurrent syncs of one repo make exactly one upstream fetch', async () => {
    const sha = await h.gh.commit('acme/web', { 'CHANGE.md': 'two\n' });
    const before = fetchesOf('acme/web').length;
    const sharedBefore = await metric('berth_repo_sync_shared_total', 'reason="in-flight"');
    const okBefore = await metric('berth_repo_fetches_total', 'kind="fetch",result="ok"');
    h.gh.delayMs = 300;
    try {
      const replies = await Promise.all(Array.from({ length: 10 }, () => sync(h.nc, { repo: 'acme/web', branch: 'main' })));
      expect(replies.every((r) => r.sha === sha)).toBe(true);
      expect(replies.filter((r) => r.fetched)).toHaveLength(1);
    } finally {
      h.gh.delayMs = 0;
    }
    expect(fetchesOf('acme/web').length - before).toBe(1);
    // The nine others joined the running fetch in memory (not only through the Redis lock).
    expect((await metric('berth_repo_sync_shared_total', 'reason="in-flight"')) - sharedBefore).toBe(9);
    expect((await metric('berth_repo_fetches_total', 'kind="fetch",result="ok"')) - okBefore).toBe(1);
  });

  test('branches: odd legal names resolve, a missing one is BRANCH_NOT_FOUND, shell metacharacters are refused', async () => {
    const odd = 'feature/ünï-cøde+x#1=%{y},z!';
    const sha = await h.gh.createBranch('acme/web', odd, 'main');
    expect((await sync(h.nc, { repo: 'acme/web', branch: odd })).sha).toBe(sha);
    await expect(sync(h.nc, { repo: 'acme/web', branch: 'no-such-branch' })).rejects.toMatchObject({ code: 'BRANCH_NOT_FOUND' });
    for (const branch of ['x;touch /tmp/pwned', '$(id)', '`id`', 'a|b', 'a&b', '-upload-pack=x', '--help', 'a b', "it's", 'a..b', '@{-1}']) {
      const r = await rawSync(h.nc, { repo: 'acme/web', branch });
      expect(r, branch).toBeInstanceOf(BerthError);
      expect((r as BerthError).code, branch).toBe('VALIDATION_FAILED');
    }
    for (const repo of ['../etc', 'acme/../x', '-x/y', 'acme/web.git', 'acme/web;id', 'acme']) {
      expect(((await rawSync(h.nc, { repo })) as BerthError).code, repo).toBe('VALIDATION_FAILED');
    }
  });

  test('a private repo: REPO_AUTH_FAILED without or with a wrong token, synced with it, never reused without it', async () => {
    await expect(sync(h.nc, { repo: 'acme/secret' })).rejects.toMatchObject({
      code: 'REPO_AUTH_FAILED',
      retryable: false,
      message: expect.stringContaining('needs a token'),
    });
    await expect(sync(h.nc, { repo: 'acme/secret', githubToken: 'ghp_wrong' })).rejects.toMatchObject({
      code: 'REPO_AUTH_FAILED',
      message: expect.stringContaining('refused the token'),
    });
    const ok = await sync(h.nc, { repo: 'acme/secret', githubToken: TOKEN, branch: 'main' });
    expect(ok).toMatchObject({ fetched: true, sha: await h.gh.revParse('acme/secret', 'main') });
    expect(h.gh.requestsFor('acme/secret', true).at(-1)).toMatchObject({ authValid: true, status: 200 });
    // A fresh private mirror is handed out only to a caller whose token proves access.
    await expect(sync(h.nc, { repo: 'acme/secret', maxAgeMs: 60_000 })).rejects.toMatchObject({ code: 'REPO_AUTH_FAILED' });
    expect((await sync(h.nc, { repo: 'acme/secret', maxAgeMs: 60_000, githubToken: TOKEN })).fetched).toBe(false);
  });

  test('while a private fetch runs, no process has the token in its command line', async () => {
    await h.gh.commit('acme/secret', { 'README.md': 'changed\n' });
    h.gh.delayMs = 1_000;
    try {
      const running = sync(h.nc, { repo: 'acme/secret', githubToken: TOKEN });
      const seen: string[] = [];
      const until = Date.now() + 800;
      while (Date.now() < until) {
        seen.push(...processCmdlines().filter((c) => c.includes('acme/secret') || c.includes(TOKEN)));
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await running).fetched).toBe(true);
      expect(seen.some((c) => c.startsWith('git fetch'))).toBe(true); // the scan saw git at work
      expect(seen.filter((c) => c.includes(TOKEN))).toEqual([]);
    } finally {
      h.gh.delayMs = 0;
    }
  });

  test('an unknown repo is REPO_NOT_FOUND, an unknown branch BRANCH_NOT_FOUND; an upstream outage is UPSTREAM_UNAVAILABLE and retryable', async () => {
    await expect(sync(h.nc, { repo: 'acme/nope' })).rejects.toMatchObject({ code: 'REPO_NOT_FOUND' });
    await expect(sync(h.nc, { repo: 'acme/web', branch: 'no-such-branch' })).rejects.toMatchObject({ code: 'BRANCH_NOT_FOUND' });
    h.gh.failWith = 503;
    try {
      await expect(sync(h.nc, { repo: 'acme/web' })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
    } finally {
      h.gh.failWith = undefined;
    }
  });

  test('a corrupt mirror is moved aside and cloned again', async () => {
    const mirror = join(h.mirrors, 'acme/web.git');
    writeFileSync(join(mirror, 'HEAD'), 'garbage\n');
    const before = fetchesOf('acme/web').length;
    const r = await sync(h.nc, { repo: 'acme/web', branch: 'main' });
    expect(r).toMatchObject({ fetched: true, sha: await h.gh.revParse('acme/web', 'main'), defaultBranch: 'main' });
    expect(fetchesOf('acme/web').length - before).toBe(1);
    expect(fetchesOf('acme/web').at(-1)?.haves).toBe(0);
    expect(rc.allOutput).toMatch(/moved aside/);
  });

  test('the token appears nowhere: not in output, not under the mirrors, not in Redis', async () => {
    const b64 = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    const items: [string, string][] = [['repo-cache output', rc.allOutput], ...filesUnder(h.mirrors), ...(await redisEntries(h.redis.url))];
    expect(items.length).toBeGreaterThan(10);
    expect(rc.allOutput).toMatch(/acme\/secret/); // the scan covers the private repo's activity
    expect(findSecret(items, TOKEN)).toEqual([]);
    expect(findSecret(items, b64)).toEqual([]);
  });
});
