import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSetupFixture, type SetupFixture } from '../support/setup-fixture.js';

// pool-manager killed (SIGKILL) in the middle of a setup: after its restart the setup is failed
// SETUP_INTERRUPTED, never stuck, and nothing it started is left running.
const TOKEN = `ghp_${'RestartT0kenValue'.repeat(2)}`;
let f: SetupFixture;

beforeAll(async () => { f = await startSetupFixture(TOKEN); }, 120_000);
afterAll(async () => { await f?.stop(); });

test('a setup interrupted by a pool-manager crash ends failed SETUP_INTERRUPTED with no orphan process or task', async () => {
  const { id } = await f.client.claim();
  const r = await f.client.api('POST', `/api/containers/${id}/setup`, { repo: 'acme/app', branch: 'main', githubToken: TOKEN, installCommand: 'sleep 300' });
  expect(r.status, r.text).toBe(202);
  // Wait until the install runs inside the workspace.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ps = await f.client.exec(id, ['ps', '-eo', 'args']);
    if (ps.stdout.includes('sleep 300')) break;
    if (Date.now() > deadline) throw new Error(`install never started\n${f.stack.outputTail()}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  expect((await f.client.api('GET', `/api/containers/${id}/setup`)).json()).toMatchObject({ phase: 'installing' });

  await f.stack.poolManager.kill('SIGKILL');
  f.stack.poolManager.start();
  const done = await f.client.awaitSetup(id, 60_000);
  expect(done).toMatchObject({ phase: 'failed', error: { code: 'SETUP_INTERRUPTED' } });
  expect(done.error?.message).toContain('installing');
  expect((await f.client.exec(id, ['ps', '-eo', 'args'])).stdout).not.toContain('sleep 300');
  // Task containers of this workspace's setup (clone, seed copy); none may be left.
  const tasks = execFileSync('docker', ['ps', '-aq', '--filter', 'label=berth.task', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();
  expect(tasks).toBe('');
  // A new setup is accepted afterwards and completes.
  expect((await f.client.api('POST', `/api/containers/${id}/setup`, { repo: 'acme/app', branch: 'main', githubToken: TOKEN })).status).toBe(202);
  expect((await f.client.awaitSetup(id)).phase).toBe('ready');
}, 180_000);
