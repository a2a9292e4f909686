import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mainImageTag, type PoolView } from '@berth/contracts';
import { sleep } from '@berth/service-kit/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { NODE_APP_FIXTURE, startSetupFixture, type SetupFixture } from '../support/setup-fixture.js';

// A pool naming a repo fills from the repo's main image once it exists (the pool's own image
// before); a first setup of that repo on a container claimed from it only switches branch.
const TOKEN = `ghp_${'RepoPoolT0ken'.repeat(2)}`;
const suffix = randomBytes(3).toString('hex');
const REPO = `acme/pool-${suffix}`;
const NO_IMAGE_REPO = `acme/noimg-${suffix}`;
const TAG = mainImageTag(REPO)!;
const GENERIC = process.env.WORKSPACE_IMAGE ?? 'berth/workspace:latest';
let f: SetupFixture;

beforeAll(async () => {
  f = await startSetupFixture(
    TOKEN,
    {
      SETUP_START_TIMEOUT_MS: '30000',
      // Reconcile (which also refills) often, so the test does not depend on claim-triggered refills alone.
      RECONCILE_INTERVAL_MS: '1000',
      POOLS: JSON.stringify([
        { name: 'default', targetSize: 1, maxCreating: 2, memoryMb: 512, pids: 256 },
        { name: 'repo', repo: REPO, targetSize: 1, maxCreating: 1, memoryMb: 512, pids: 256 },
        { name: 'noimg', repo: NO_IMAGE_REPO, targetSize: 1, maxCreating: 1, memoryMb: 512, pids: 256 },
      ]),
    },
    { imageBuilder: true },
  );
  await f.github.createRepo(REPO, { fromDir: NODE_APP_FIXTURE, token: TOKEN });
  await f.github.createRepo(NO_IMAGE_REPO, { fromDir: NODE_APP_FIXTURE, token: TOKEN });
}, 120_000);

afterAll(async () => {
  await f?.stop();
  try {
    execFileSync('docker', ['rmi', '-f', TAG], { stdio: 'ignore' });
  } catch {
    /* never built */
  }
});

async function warm(pool: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await f.client.api('GET', '/api/pools');
    const view = (r.json() as { pools: PoolView[] }).pools.find((p) => p.name === pool);
    if (view && view.warm >= 1) return;
    if (Date.now() > deadline) throw new Error(`pool ${pool} not warm: ${r.text}\n${f.stack.outputTail()}`);
    await sleep(200);
  }
}

async function claimFrom(pool: string): Promise<{ id: string; hostPort: number; image: string; warm: boolean }> {
  await warm(pool);
  const r = await f.client.api('POST', '/api/containers', { pool });
  expect(r.status, r.text).toBe(201);
  return r.json() as { id: string; hostPort: number; image: string; warm: boolean };
}

const engineContainer = (id: string) =>
  execFileSync('docker', ['ps', '--filter', `label=berth.id=${id}`, '--format', '{{.ID}} {{.Image}}'], { encoding: 'utf8' }).trim();

async function setup(id: string, body: Record<string, unknown>) {
  const r = await f.client.api('POST', `/api/containers/${id}/setup`, { githubToken: TOKEN, ...body });
  expect(r.status, r.text).toBe(202);
  return f.client.awaitSetup(id);
}

test('a repo pool without a main image fills from the pool image; its setup clones', async () => {
  const c = await claimFrom('noimg');
  expect(c).toMatchObject({ warm: true, image: GENERIC });
  expect(engineContainer(c.id)).toContain(GENERIC);
  const done = await setup(c.id, { repo: NO_IMAGE_REPO, branch: 'main', hasMainImage: true });
  expect(done, JSON.stringify(done)).toMatchObject({ phase: 'ready', source: 'clone' });
  expect(await (await fetch(`http://127.0.0.1:${c.hostPort}/`)).text()).toContain('main');
  expect(f.stack.poolManager.output).toContain('repo pool has no main image yet');
}, 120_000);

test('once the main image exists the repo pool fills from it, and a claim from it only switches branch', async () => {
  // Filled before the main image existed: the pool image, and a setup that clones.
  const before = await claimFrom('repo');
  expect(before.image).toBe(GENERIC);

  // Make the main image (a setup with buildMainImage on a default-pool container).
  const builder = await f.client.claim();
  expect(await setup(builder.id, { repo: REPO, branch: 'main', buildMainImage: true })).toMatchObject({ phase: 'ready' });
  const deadline = Date.now() + 90_000;
  while (!imageExists(TAG)) {
    if (Date.now() > deadline) throw new Error(`no main image\n${f.stack.imageBuilder?.output ?? ''}`);
    await sleep(250);
  }
  expect(await setup(before.id, { repo: REPO, branch: 'main' })).toMatchObject({ phase: 'ready', source: 'clone' });

  // New fills use the main image; drain any warm container made before it appeared.
  let c = await claimFrom('repo');
  while (c.image !== TAG) {
    if (Date.now() > deadline) throw new Error(`repo pool never filled from ${TAG}\n${f.stack.outputTail()}`);
    await f.client.api('DELETE', `/api/containers/${c.id}`);
    c = await claimFrom('repo');
  }
  expect(c.warm).toBe(true);
  const engineBefore = engineContainer(c.id);
  expect(engineBefore).toContain(TAG);
  expect(f.stack.poolManager.output).toContain('repo pool fills from the main image');

  await f.github.commit(REPO, { 'NOTES.md': 'pool work\n' }, { branch: 'feature/pool' });
  const done = await setup(c.id, { repo: REPO, branch: 'feature/pool' });
  expect(done, JSON.stringify(done)).toMatchObject({ phase: 'ready', source: 'repo-pool', branch: 'feature/pool' });
  expect(done.durations.installing).toBeUndefined();
  // Not recreated: the very container the pool made.
  expect(engineContainer(c.id)).toBe(engineBefore);
  expect(await (await fetch(`http://127.0.0.1:${c.hostPort}/`)).text()).toContain('feature/pool');
  expect((await f.client.exec(c.id, ['git', '-C', '/workspace/repo', 'rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim()).toBe('feature/pool');

  // A second setup of the same workspace is a normal re-setup (the checkout has moved on).
  const again = await setup(c.id, { repo: REPO, branch: 'main' });
  expect(again).toMatchObject({ phase: 'ready', source: 'clone', branch: 'main' });
}, 300_000);

function imageExists(tag: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
