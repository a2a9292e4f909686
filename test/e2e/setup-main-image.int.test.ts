import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mainImageTag } from '@berth/contracts';
import { layerVolumeNames, workspaceVolumeName } from '@berth/pool-manager';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { NODE_APP_FIXTURE, startSetupFixture, type SetupFixture } from '../support/setup-fixture.js';

// buildMainImage → image-builder commits the set-up workspace as berth/<owner>-<repo>:main; a later
// setup with hasMainImage starts from it and only switches branch (no install when the lockfile is the same).
const TOKEN = `ghp_${'MainImageT0ken'.repeat(2)}`;
const REPO = `acme/img-${randomBytes(3).toString('hex')}`;
const TAG = mainImageTag(REPO)!;
let f: SetupFixture;

beforeAll(async () => {
  f = await startSetupFixture(TOKEN, { SETUP_START_TIMEOUT_MS: '30000' }, { imageBuilder: true });
  await f.github.createRepo(REPO, { fromDir: NODE_APP_FIXTURE, token: TOKEN });
}, 120_000);

afterAll(async () => {
  await f?.stop();
  try {
    execFileSync('docker', ['rmi', '-f', TAG], { stdio: 'ignore' });
  } catch {
    /* never built */
  }
});

const imageExists = (tag: string) => {
  try {
    execFileSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

test('hasMainImage without a main image falls back to a clone', async () => {
  const { id } = await f.client.claim();
  expect((await f.client.api('POST', `/api/containers/${id}/setup`, { repo: 'acme/app', branch: 'main', githubToken: TOKEN, hasMainImage: true })).status).toBe(
    202,
  );
  expect(await f.client.awaitSetup(id)).toMatchObject({ phase: 'ready', source: 'clone' });
}, 120_000);

test('a setup with buildMainImage makes the main image; one with hasMainImage on another branch starts from it', async () => {
  const first = await f.client.claim();
  expect(
    (await f.client.api('POST', `/api/containers/${first.id}/setup`, { repo: REPO, branch: 'main', githubToken: TOKEN, buildMainImage: true })).status,
  ).toBe(202);
  const built = await f.client.awaitSetup(first.id);
  expect(built.phase).toBe('ready');
  const deadline = Date.now() + 90_000;
  while (!imageExists(TAG)) {
    if (Date.now() > deadline) throw new Error(`no main image\n${f.stack.imageBuilder?.output ?? ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const labels = JSON.parse(execFileSync('docker', ['image', 'inspect', '-f', '{{json .Config.Labels}}', TAG], { encoding: 'utf8' })) as Record<string, string>;
  expect(labels['berth.sha']).toBe(built.sha);

  await f.github.commit(REPO, { 'NOTES.md': 'login work\n' }, { branch: 'feature/login' });
  const { id, hostPort } = await f.client.claim();
  expect(
    (await f.client.api('POST', `/api/containers/${id}/setup`, { repo: REPO, branch: 'feature/login', githubToken: TOKEN, hasMainImage: true })).status,
  ).toBe(202);
  const done = await f.client.awaitSetup(id);
  expect(done, JSON.stringify(done)).toMatchObject({ phase: 'ready', source: 'main-image', branch: 'feature/login' });
  expect(done.durations.installing).toBeUndefined();
  expect(await (await fetch(`http://127.0.0.1:${hostPort}/`)).text()).toContain('feature/login');
  const image = execFileSync('docker', ['ps', '--filter', `label=berth.id=${id}`, '--format', '{{.Image}}'], { encoding: 'utf8' }).trim();
  expect(image).toBe(TAG);
  // The workspace layers over the image's tree, and its own layer holds only what the branch
  // changed: the switch neither rewrote nor copied up the files it kept.
  const upper = execFileSync('docker', ['volume', 'inspect', '-f', '{{.Mountpoint}}', layerVolumeNames(workspaceVolumeName(id)).upper], {
    encoding: 'utf8',
  }).trim();
  expect(existsSync(join(upper, 'repo', 'NOTES.md'))).toBe(true);
  expect(existsSync(join(upper, 'repo', 'package.json'))).toBe(false);
  // Same workspace for the caller: GET, exec and the checkout's remote.
  expect((await f.client.api('GET', `/api/containers/${id}`)).json()).toMatchObject({ id, hostPort });
  expect((await f.client.exec(id, ['git', '-C', '/workspace/repo', 'remote', 'get-url', 'origin'])).stdout.trim()).toBe(`https://github.com/${REPO}.git`);
}, 240_000);
