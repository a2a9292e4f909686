import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FakeGitHub, tokenEnv } from './fake-github.js';
import { gitEnv } from './git-fixtures.js';

const run = promisify(execFile);
const TOKEN = 'ghp_fakeToken0123456789abcdef';
let gh: FakeGitHub;
let tmp: string;

async function clone(url: string, dest: string, env: Record<string, string> = {}, args: string[] = []): Promise<{ ok: boolean; stderr: string }> {
  try {
    await run('git', ['clone', '--quiet', ...args, '--', url, dest], { env: { ...gitEnv(tmp), ...env } });
    return { ok: true, stderr: '' };
  } catch (err) {
    return { ok: false, stderr: String((err as { stderr?: string }).stderr) };
  }
}

beforeAll(async () => {
  gh = await FakeGitHub.start();
  tmp = mkdtempSync(join(tmpdir(), 'berth-fgh-test-'));
  await gh.createRepo('acme/web', { fromDir: join(repoRoot(), 'test', 'fixtures', 'node-app') });
  await gh.createRepo('acme/secret', { token: TOKEN });
  await gh.commit('acme/secret', { 'README.md': 'private\n' });
});

afterAll(async () => {
  await gh?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('fake GitHub', () => {
  test('clones a public repo without a token, and a later fetch sends haves', async () => {
    const dest = join(tmp, 'web');
    expect(await clone(gh.cloneUrl('acme/web'), dest)).toEqual({ ok: true, stderr: '' });
    expect(existsSync(join(dest, 'package.json'))).toBe(true);
    const fetches = gh.requestsFor('acme/web', true);
    expect(fetches).toHaveLength(1);
    expect(fetches[0]).toMatchObject({ haves: 0, authPresent: false, status: 200 });
    expect(fetches[0]?.wants).toBeGreaterThan(0);

    const sha = await gh.commit('acme/web', { 'NEW.md': 'new\n' });
    await run('git', ['fetch', '--quiet', 'origin'], { cwd: dest, env: gitEnv(tmp) });
    const { stdout } = await run('git', ['rev-parse', 'origin/main'], { cwd: dest });
    expect(stdout.trim()).toBe(sha);
    const after = gh.requestsFor('acme/web', true);
    expect(after).toHaveLength(2);
    expect(after[1]?.haves).toBeGreaterThan(0);
  });

  test('a private repo answers 401 without a token or with a wrong one, and clones with it', async () => {
    const denied = await clone(gh.cloneUrl('acme/secret'), join(tmp, 's1'));
    expect(denied.ok).toBe(false);
    expect(gh.requestsFor('acme/secret').at(-1)).toMatchObject({ status: 401, authPresent: false });

    const wrong = await clone(gh.cloneUrl('acme/secret'), join(tmp, 's2'), tokenEnv('ghp_wrong'));
    expect(wrong.ok).toBe(false);
    expect(gh.requestsFor('acme/secret').at(-1)).toMatchObject({ status: 401, authPresent: true, authValid: false });

    const ok = await clone(gh.cloneUrl('acme/secret'), join(tmp, 's3'), tokenEnv(TOKEN));
    expect(ok.ok).toBe(true);
    expect(readFileSync(join(tmp, 's3', 'README.md'), 'utf8')).toBe('private\n');
    expect(gh.requestsFor('acme/secret', true).at(-1)).toMatchObject({ status: 200, authPresent: true, authValid: true });
  });

  test('unknown repos are 404, outages are played with failWith', async () => {
    expect((await clone(`${gh.url}/acme/nope.git`, join(tmp, 'n'))).ok).toBe(false);
    expect(gh.requests.at(-1)?.status).toBe(404);
    gh.failWith = 503;
    try {
      expect((await clone(gh.cloneUrl('acme/web'), join(tmp, 'down'))).ok).toBe(false);
      expect(gh.requests.at(-1)?.status).toBe(503);
    } finally {
      gh.failWith = undefined;
    }
  });

  test('gzipped upload-pack requests are understood', async () => {
    // A protocol v2 ls-refs command, gzipped as git sends requests over 1 kB.
    const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;
    const body = gzipSync(Buffer.from(`${pkt('command=ls-refs\n')}0001${pkt('peel\n')}${pkt('ref-prefix refs/heads/\n')}0000`));
    const res = await fetch(`${gh.cloneUrl('acme/web')}/git-upload-pack`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-git-upload-pack-request', 'content-encoding': 'gzip', 'git-protocol': 'version=2' },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`${await gh.revParse('acme/web', 'main')} refs/heads/main`);
    expect(gh.requests.at(-1)).toMatchObject({ gzip: true, command: 'ls-refs', status: 200 });
  });

  test('branches with odd but legal names clone', async () => {
    const name = 'feature/ünï-cøde+x#1=%{y},z!';
    const sha = await gh.createBranch('acme/web', name, 'main');
    const dest = join(tmp, 'odd');
    expect((await clone(gh.cloneUrl('acme/web'), dest, {}, ['--branch', name])).ok).toBe(true);
    const { stdout } = await run('git', ['rev-parse', 'HEAD'], { cwd: dest });
    expect(stdout.trim()).toBe(sha);
  });

  test('a generated big repo has the asked history', async () => {
    const { sha, historyBytes } = await gh.createBigRepo('acme/big', { files: 10, fileLines: 20, commits: 20, runLength: 5 });
    expect(historyBytes).toBe((10 + 20) * 20 * 65);
    const dest = join(tmp, 'big');
    expect((await clone(gh.cloneUrl('acme/big'), dest)).ok).toBe(true);
    const { stdout } = await run('git', ['rev-list', '--count', sha], { cwd: dest });
    expect(Number(stdout.trim())).toBe(21);
    const tree = await run('git', ['ls-tree', '-r', '--name-only', 'HEAD'], { cwd: dest });
    expect(tree.stdout.trim().split('\n')).toHaveLength(10);
  });
});
