import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskResult } from '../src/setup/setup-commands.js';
import { git, initBare, RepoAuthor } from '../../../test/support/git-fixtures.js';

// The clone and seed-save task scripts, run here with node against directories standing in for the
// task container's /mirror, /workspace and /seed (the `root` argument prefixes those paths).
const script = (name: string) => readFileSync(new URL(`../src/setup/tasks/${name}`, import.meta.url), 'utf8');
const FIXTURE = join(import.meta.dirname, '../../../test/fixtures/node-app');
let dir: string;
let mainSha: string;

function runTask(name: string, root: string, args: Record<string, unknown>): { ok: boolean; out: string } {
  try {
    const out = execFileSync(process.execPath, ['-e', script(name), JSON.stringify({ ...args, root })], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { ok: true, out };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-checkout-'));
  await initBare(join(dir, 'origin.git'));
  const author = await RepoAuthor.create(join(dir, 'origin.git'), join(dir, 'author'), 'main', FIXTURE);
  mainSha = await git(join(dir, 'origin.git'), ['rev-parse', 'refs/heads/main']);
  await author.commit('feature/x', { 'extra.txt': 'on feature\n' });
  // The mirror, as repo-cache keeps it.
  mkdirSync(join(dir, 'root'));
  await git(dir, ['clone', '--mirror', '--quiet', join(dir, 'origin.git'), join(dir, 'root/mirror')]);
  mkdirSync(join(dir, 'root/workspace'));
  mkdirSync(join(dir, 'root/seed'));
}, 30_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('checkout task', () => {
  it('clones the branch from the mirror, points origin at GitHub and reports the lockfile and dev script', async () => {
    const { ok, out } = runTask('checkout.cjs', join(dir, 'root'), { repo: 'acme/app', branch: 'main', mode: 'clone', seed: true });
    expect(ok, out).toBe(true);
    const result = taskResult<{ sha: string; lockfile: string; lockHash: string; devScript: boolean; seeded: boolean }>(out);
    expect(result).toMatchObject({ sha: mainSha, lockfile: 'package-lock.json', devScript: true, seeded: false });
    expect(result?.lockHash).toMatch(/^[0-9a-f]{64}$/);
    const repo = join(dir, 'root/workspace/repo');
    expect(await git(repo, ['remote', 'get-url', 'origin'])).toBe('https://github.com/acme/app.git');
    expect(readFileSync(join(repo, '.git/config'), 'utf8')).not.toContain(join(dir, 'root/mirror'));
    // No alternates: the checkout stands alone once the mirror is unmounted.
    expect(existsSync(join(repo, '.git/objects/info/alternates'))).toBe(false);
  });

  it('copies node_modules from the seed when the key matches, and ignores a seed of another lockfile', async () => {
    const first = taskResult<{ lockHash: string }>(
      runTask('checkout.cjs', join(dir, 'root'), { repo: 'acme/app', branch: 'main', mode: 'clone', seed: true }).out,
    )!;
    const seed = join(dir, 'root/seed');
    mkdirSync(join(seed, 'node_modules/dep'), { recursive: true });
    writeFileSync(join(seed, 'node_modules/dep/index.js'), 'seeded');
    writeFileSync(join(seed, 'key'), 'f'.repeat(64));
    let r = taskResult<{ seeded: boolean }>(runTask('checkout.cjs', join(dir, 'root'), { repo: 'acme/app', branch: 'main', mode: 'clone', seed: true }).out);
    expect(r?.seeded).toBe(false);
    expect(existsSync(join(dir, 'root/workspace/repo/node_modules'))).toBe(false);
    writeFileSync(join(seed, 'key'), `${first.lockHash}\n`);
    r = taskResult<{ seeded: boolean }>(runTask('checkout.cjs', join(dir, 'root'), { repo: 'acme/app', branch: 'main', mode: 'clone', seed: true }).out);
    expect(r?.seeded).toBe(true);
    expect(readFileSync(join(dir, 'root/workspace/repo/node_modules/dep/index.js'), 'utf8')).toBe('seeded');
    // A different install command is a different key.
    r = taskResult<{ seeded: boolean }>(
      runTask('checkout.cjs', join(dir, 'root'), { repo: 'acme/app', branch: 'main', mode: 'clone', seed: true, installKey: 'npm i' }).out,
    );
    expect(r?.seeded).toBe(false);
  });

  it('switches an existing checkout to another branch (main-image mode), keeping node_modules when the lockfile did not change', async () => {
    mkdirSync(join(dir, 'root/workspace/repo/node_modules/from-image'), { recursive: true });
    const { ok, out } = runTask('checkout.cjs', join(dir, 'root'), { repo: 'acme/app', branch: 'feature/x', mode: 'switch', seed: false });
    expect(ok, out).toBe(true);
    expect(taskResult<{ seeded: boolean }>(out)?.seeded).toBe(true);
    expect(existsSync(join(dir, 'root/workspace/repo/node_modules/from-image'))).toBe(true);
    const repo = join(dir, 'root/workspace/repo');
    expect(await git(repo, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('feature/x');
    expect(readFileSync(join(repo, 'extra.txt'), 'utf8')).toBe('on feature\n');
  });

  it('runs no hook of an existing checkout (a main image carries a .git made in a workspace)', () => {
    const repo = join(dir, 'root/workspace/repo');
    const marker = join(dir, 'hook-ran');
    writeFileSync(join(repo, '.git/hooks/post-checkout'), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    const { ok, out } = runTask('checkout.cjs', join(dir, 'root'), { repo: 'acme/app', branch: 'main', mode: 'switch', seed: false });
    expect(ok, out).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });

  it('fails with a short message for a branch the mirror does not have', () => {
    const { ok, out } = runTask('checkout.cjs', join(dir, 'root'), { repo: 'acme/app', branch: 'nope', mode: 'clone', seed: false });
    expect(ok).toBe(false);
    expect(out).toContain('checkout failed');
    expect(taskResult(out)).toBeUndefined();
  });
});

describe('seed-save task', () => {
  it('copies node_modules into the seed and writes the key last', () => {
    const root = join(dir, 'save');
    mkdirSync(join(root, 'src/repo/node_modules/a'), { recursive: true });
    writeFileSync(join(root, 'src/repo/node_modules/a/x.js'), 'new');
    mkdirSync(join(root, 'workspace/node_modules/old'), { recursive: true });
    const { ok, out } = runTask('seed-save.cjs', root, { key: 'k'.repeat(64) });
    expect(ok, out).toBe(true);
    expect(readFileSync(join(root, 'workspace/node_modules/a/x.js'), 'utf8')).toBe('new');
    expect(existsSync(join(root, 'workspace/node_modules/old'))).toBe(false);
    expect(readFileSync(join(root, 'workspace/key'), 'utf8').trim()).toBe('k'.repeat(64));
  });
});
