import { randomBytes } from 'node:crypto';
import type { SetupPhase } from '@berth/contracts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CallbackReceiver } from '../../../test/support/callback-receiver.js';
import { NODE_APP_FIXTURE, startSetupFixture, type SetupFixture } from '../../../test/support/setup-fixture.js';
import { Berth, BerthApiError, isApiError } from '../src/index.js';
import { berthCli } from './cli.js';

// container.setup and `berth create --repo` against the real stack: gateway, pool-manager,
// repo-cache and egress as processes, real Docker, a fake GitHub. Debug logs for the trace test.
const TOKEN = `ghp_${'SdkSetupT0kenValue'.repeat(2)}`;
const CALLBACK_SECRET = 'sdk-setup-callback-secret-0123456789';
let f: SetupFixture;
let berth: Berth;
let receiver: CallbackReceiver;

beforeAll(async () => {
  f = await startSetupFixture(TOKEN, { SETUP_INSTALL_TIMEOUT_MS: '20000' }, { withEgress: true, egressAllowCidrs: '127.0.0.1/32', logLevel: 'debug' });
  await f.github.createRepo('acme/pub', { fromDir: NODE_APP_FIXTURE });
  receiver = await CallbackReceiver.start(CALLBACK_SECRET);
  berth = new Berth({ url: f.stack.url, apiKey: f.stack.token, timeoutMs: 30_000 });
}, 120_000);
afterAll(async () => {
  await receiver?.close();
  await f?.stop();
});

const ORDER: SetupPhase[] = ['queued', 'cloning', 'installing', 'starting', 'ready'];

describe('SDK container.setup against the real stack', () => {
  test('onProgress sees the phases in order, ending ready; the dev server answers', async () => {
    const c = await berth.containers.create();
    const seen: SetupPhase[] = [];
    const done = await c.setup(
      { repo: 'acme/app', branch: 'main', githubToken: TOKEN },
      { pollIntervalMs: 50, timeoutMs: 120_000, onProgress: (s) => seen.push(s.phase) },
    );
    expect(done).toMatchObject({ phase: 'ready', repo: 'acme/app', branch: 'main' });
    expect(seen.at(-1)).toBe('ready');
    expect(seen[0]).toBe('queued');
    // Strictly increasing phase order (a fast phase may be skipped between two polls).
    const idx = seen.map((p) => ORDER.indexOf(p));
    expect(
      idx.every((v, i) => v >= 0 && (i === 0 || v > idx[i - 1]!)),
      seen.join(','),
    ).toBe(true);
    expect(seen).toContain('installing');
    expect(await (await fetch(`http://127.0.0.1:${c.hostPort}/`)).text()).toContain('main');
    await c.delete();
  }, 150_000);

  test('a failing install throws BerthApiError INSTALL_FAILED carrying the failed status', async () => {
    const c = await berth.containers.create();
    const phases: SetupPhase[] = [];
    const err = await c
      .setup(
        { repo: 'acme/app', branch: 'main', githubToken: TOKEN, installCommand: 'echo "install broke" >&2; exit 9' },
        { pollIntervalMs: 50, timeoutMs: 120_000, onProgress: (s) => phases.push(s.phase) },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthApiError);
    expect(isApiError(err, 'INSTALL_FAILED')).toBe(true);
    expect(err).toMatchObject({ code: 'INSTALL_FAILED', setup: { phase: 'failed' } });
    expect((err as { setup: { logTail?: string } }).setup.logTail).toContain('install broke');
    expect(phases.at(-1)).toBe('failed');
    expect(phases).not.toContain('ready');
    await c.delete();
  }, 150_000);
});

describe('berth create --repo against the real stack', () => {
  const env = () => ({ BERTH_URL: f.stack.url, BERTH_API_KEY: f.stack.token, HOME: '/nonexistent' });

  test('shows the phases in order and prints the id of a ready workspace', async () => {
    const r = await berthCli(['create', '--repo', 'acme/pub@main'], env());
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^ws_/);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('setup: '));
    const phases = lines.map((l) => l.split(' ')[1]!);
    expect(phases[0]).toBe('queued');
    expect(lines.at(-1)).toMatch(/^setup: ready after [\d.]+ s/);
    const idx = phases.map((p) => ORDER.indexOf(p as SetupPhase));
    expect(
      idx.every((v, i) => v >= 0 && (i === 0 || v > idx[i - 1]!)),
      lines.join('\n'),
    ).toBe(true);
    await expect(berth.containers.get(id).then((c) => c.setupStatus())).resolves.toMatchObject({ phase: 'ready', repo: 'acme/pub' });
    await berth.containers.delete(id);
  }, 150_000);

  test("a repository that does not exist exits 1, prints the id and the setup's real status (CLONE_FAILED, REPO_NOT_FOUND), and keeps the container", async () => {
    const r = await berthCli(['create', '--repo', 'acme/missing@main'], env());
    expect(r.code).toBe(1);
    const id = r.stdout.trim();
    expect(id).toMatch(/^ws_(?:[a-z0-9][a-z0-9-]*_)?[0-9a-f]{16}$/);
    expect(r.stderr).toMatch(/setup: failed after [\d.]+ s .*: CLONE_FAILED: REPO_NOT_FOUND/);
    expect(r.stderr).toMatch(
      new RegExp(`^berth: setup of ${id} failed \\(CLONE_FAILED: .*REPO_NOT_FOUND.*\\); the container is kept \\(berth rm ${id} removes it\\)$`, 'm'),
    );
    // The setup was accepted (202): no HTTP status made up from the error code.
    expect(r.stderr).not.toMatch(/HTTP \d+/);
    await expect(berth.containers.get(id).then((c) => c.setupStatus())).resolves.toMatchObject({ phase: 'failed', error: { code: 'CLONE_FAILED' } });
    await berth.containers.delete(id);
  }, 150_000);
});

interface LogLine {
  trace_id?: string;
  msg?: string;
}
const withTrace = (output: string, traceId: string): LogLine[] =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.trace_id === traceId);

test("one setup with a callback: the caller's trace id is in the logs of gateway, pool-manager, repo-cache and egress", async () => {
  const c = await berth.containers.create();
  const traceId = randomBytes(16).toString('hex');
  const res = await fetch(`${f.stack.url}/api/containers/${c.id}/setup`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${f.stack.token}`,
      'content-type': 'application/json',
      traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
    },
    body: JSON.stringify({ repo: 'acme/app', branch: 'main', githubToken: TOKEN, callbackUrl: receiver.url, callbackSecret: CALLBACK_SECRET }),
  });
  expect(res.status, await res.text()).toBe(202);
  expect((await f.client.awaitSetup(c.id)).phase).toBe('ready');
  const services = { gateway: f.stack.gateway, 'pool-manager': f.stack.poolManager, 'repo-cache': f.stack.repoCache!, egress: f.stack.egress! };
  const missing = () =>
    Object.entries(services)
      .filter(([, p]) => withTrace(p.allOutput, traceId).length === 0)
      .map(([n]) => n);
  for (let i = 0; i < 100 && missing().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(missing(), `trace ${traceId} missing\n${f.stack.outputTail()}`).toEqual([]);
  // The callback was delivered, signed.
  expect(receiver.received.some((d) => d.signatureValid && d.body.includes(c.id))).toBe(true);
  await c.delete();
}, 150_000);
