import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FakeGitHub } from '../support/fake-github.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { apiClient } from '../support/setup-client.js';

// Repository setup end to end: gateway, pool-manager, repo-cache as real processes, real Docker,
// a fake GitHub serving a private repository that needs a token.
const FIXTURE = join(import.meta.dirname, '../fixtures/node-app');
const TOKEN = `ghp_${'T0kenForSetupTests'.repeat(2)}`;
let stack: LocalStack;
let github: FakeGitHub;
let mirrors: string;
let client: ReturnType<typeof apiClient>;

beforeAll(async () => {
  github = await FakeGitHub.start();
  await github.createRepo('acme/app', { fromDir: FIXTURE, token: TOKEN });
  mirrors = mkdtempSync(join(tmpdir(), 'berth-mirrors-'));
  chmodSync(mirrors, 0o755);
  const lo = 20100 + Math.floor(Math.random() * 120) * 100;
  stack = await startLocalStack({
    POOLS: JSON.stringify([{ name: 'default', targetSize: 1, maxCreating: 2, memoryMb: 512, pids: 256 }]),
    PORT_RANGE: `${lo}-${lo + 99}`,
    MAX_CONTAINERS: '8',
    SETUP_START_TIMEOUT_MS: '30000',
    NPM_CACHE_VOLUME: '',
  }, 'info', { repoCache: { mirrorsDir: mirrors, githubUrl: github.url } });
  client = apiClient(stack);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await github?.stop();
  if (mirrors) rmSync(mirrors, { recursive: true, force: true });
});

describe('POST /api/containers/:id/setup', () => {
  test('a private repository is cloned with the token, installed and its dev server answers on the host port', async () => {
    const { id, hostPort } = await client.claim();
    const r = await client.api('POST', `/api/containers/${id}/setup`, { repo: 'acme/app', branch: 'main', githubToken: TOKEN });
    expect(r.status, r.text).toBe(202);
    expect(r.json()).toMatchObject({ id, phase: 'queued', repo: 'acme/app', branch: 'main' });
    const done = await client.awaitSetup(id);
    expect(done, JSON.stringify(done)).toMatchObject({ phase: 'ready', source: 'clone' });
    expect(done.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(Object.keys(done.durations)).toEqual(expect.arrayContaining(['queued', 'cloning', 'installing', 'starting']));
    const res = await fetch(`http://127.0.0.1:${hostPort}/`);
    expect(await res.text()).toContain('main');
    const remote = await client.exec(id, ['git', '-C', '/workspace/repo', 'remote', 'get-url', 'origin']);
    expect(remote.stdout.trim()).toBe('https://github.com/acme/app.git');
  }, 180_000);
});
