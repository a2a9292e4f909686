import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSetupFixture, type SetupFixture } from '../support/setup-fixture.js';

// pool-manager killed (SIGKILL) in the middle of a setup (cloning, installing, starting): after
// its restart the setup is failed SETUP_INTERRUPTED, never stuck, and nothing it started is left
// running (no process in the workspace, no task container).
const TOKEN = `ghp_${'RestartT0kenValue'.repeat(2)}`;
let f: SetupFixture;

beforeAll(async () => {
  f = await startSetupFixture(TOKEN, { SETUP_START_TIMEOUT_MS: '120000' });
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}\n${f.stack.outputTail()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

const phaseOf = async (id: string) => (await f.client.api('GET', `/api/containers/${id}/setup`)).json().phase;
const psHas = async (id: string, needle: string) => (await f.client.exec(id, ['ps', '-eo', 'args'])).stdout.includes(needle);
const tasksOf = (id: string) =>
  execFileSync('docker', ['ps', '-aq', '--filter', 'label=berth.task', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();

/** Kills and restarts pool-manager, then checks the setup ended interrupted in `phase` with nothing left, and that a new one works. */
async function crashAndCheck(id: string, phase: string, leftover?: string): Promise<void> {
  await f.stack.poolManager.kill('SIGKILL');
  f.stack.poolManager.start();
  const done = await f.client.awaitSetup(id, 60_000);
  expect(done).toMatchObject({ phase: 'failed', error: { code: 'SETUP_INTERRUPTED' } });
  expect(done.error?.message).toContain(phase);
  if (leftover) expect(await psHas(id, leftover)).toBe(false);
  // Task containers of this workspace's setup (checkout, seed copy); none may be left.
  expect(tasksOf(id)).toBe('');
  // A new setup is accepted afterwards and completes.
  expect((await f.client.api('POST', `/api/containers/${id}/setup`, { repo: 'acme/app', branch: 'main', githubToken: TOKEN })).status).toBe(202);
  expect((await f.client.awaitSetup(id)).phase).toBe('ready');
}

test('a crash while installing ends failed SETUP_INTERRUPTED with no orphan process or task', async () => {
  const { id } = await f.client.claim();
  const r = await f.client.api('POST', `/api/containers/${id}/setup`, { repo: 'acme/app', branch: 'main', githubToken: TOKEN, installCommand: 'sleep 300' });
  expect(r.status, r.text).toBe(202);
  await until(() => psHas(id, 'sleep 300'), 'install never started');
  expect(await phaseOf(id)).toBe('installing');
  await crashAndCheck(id, 'installing', 'sleep 300');
}, 180_000);

test('a crash while cloning (repo-cache still fetching upstream) ends failed SETUP_INTERRUPTED with no task left', async () => {
  const { id } = await f.client.claim();
  // Upstream answers the fetch only after 8 s: the setup sits in cloning meanwhile.
  f.github.delayMs = 8_000;
  try {
    await f.github.createBranch('acme/app', `slow-${id}`);
    const r = await f.client.api('POST', `/api/containers/${id}/setup`, { repo: 'acme/app', branch: `slow-${id}`, githubToken: TOKEN });
    expect(r.status, r.text).toBe(202);
    await until(async () => (await phaseOf(id)) === 'cloning', 'setup never reached cloning');
    await new Promise((res) => setTimeout(res, 500));
    expect(await phaseOf(id)).toBe('cloning');
    await f.stack.poolManager.kill('SIGKILL');
  } finally {
    f.github.delayMs = 0;
  }
  f.stack.poolManager.start();
  const done = await f.client.awaitSetup(id, 60_000);
  expect(done).toMatchObject({ phase: 'failed', error: { code: 'SETUP_INTERRUPTED' } });
  expect(done.error?.message).toContain('cloning');
  // Give an in-flight checkout task time to have been started, had anything survived to start it.
  await new Promise((res) => setTimeout(res, 9_000));
  expect(tasksOf(id)).toBe('');
  expect((await f.client.exec(id, ['sh', '-c', 'ls -A /workspace/repo 2>/dev/null | wc -l'])).stdout.trim()).toBe('0');
  expect((await f.client.api('POST', `/api/containers/${id}/setup`, { repo: 'acme/app', branch: 'main', githubToken: TOKEN })).status).toBe(202);
  expect((await f.client.awaitSetup(id)).phase).toBe('ready');
}, 180_000);

test('a crash while the checkout task container runs ends failed SETUP_INTERRUPTED and the task is removed', async () => {
  // A tree big enough that the checkout from the mirror takes a while.
  await f.github.createBigRepo('acme/big', { files: 300, fileLines: 3000, commits: 0, token: TOKEN });
  const { id } = await f.client.claim();
  const r = await f.client.api('POST', `/api/containers/${id}/setup`, { repo: 'acme/big', branch: 'main', githubToken: TOKEN });
  expect(r.status, r.text).toBe(202);
  const deadline = Date.now() + 60_000;
  while (tasksOf(id) === '') {
    if (Date.now() > deadline) throw new Error(`checkout task never seen\n${f.stack.outputTail()}`);
    await new Promise((res) => setTimeout(res, 20));
  }
  await crashAndCheck(id, 'cloning');
}, 240_000);

test('a crash while starting (dev server not answering yet) ends failed SETUP_INTERRUPTED and stops the start command', async () => {
  const { id } = await f.client.claim();
  const r = await f.client.api('POST', `/api/containers/${id}/setup`, { repo: 'acme/app', branch: 'main', githubToken: TOKEN, startCommand: 'sleep 301' });
  expect(r.status, r.text).toBe(202);
  await until(() => psHas(id, 'sleep 301'), 'start command never ran');
  expect(await phaseOf(id)).toBe('starting');
  await crashAndCheck(id, 'starting', 'sleep 301');
}, 180_000);
