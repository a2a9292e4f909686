import { afterAll, beforeAll, expect, test } from 'vitest';
import { berthCli } from './cli.js';
import { FakeGateway, VIEW, apiError } from './fake-gateway.js';

// `berth create --repo` against a fake gateway speaking the setup contract (the real setup route
// arrives with the setup work): the phases are shown as they come, the id goes to stdout.
let fake: FakeGateway;
beforeAll(async () => {
  fake = await FakeGateway.start();
});
afterAll(async () => {
  await fake.close();
});

const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();
const status = (seq: number, phase: string, extra: Record<string, unknown> = {}) => ({
  id: VIEW.id,
  seq,
  phase,
  repo: 'acme/app',
  branch: 'dev',
  at: at(seq),
  startedAt: at(0),
  durations: {},
  ...extra,
});

function serve(final: Record<string, unknown>): void {
  const steps = [status(2, 'cloning'), status(3, 'installing', { sha: 'a'.repeat(40), durations: { cloning: 1200 } }), final];
  let polls = 0;
  fake.handler = (req, res) => {
    const send = (code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'POST' && req.url === '/api/containers') return send(201, { ...VIEW, warm: true });
    if (req.method === 'POST' && req.url.endsWith('/setup')) return send(202, status(1, 'queued'));
    if (req.method === 'GET' && req.url.endsWith('/setup')) return send(200, steps[Math.min(polls++, steps.length - 1)]);
    return send(404, apiError('ROUTE_NOT_FOUND', false));
  };
}

const env = () => ({ BERTH_URL: fake.url, BERTH_API_KEY: 'k-cli-test-0123456789', HOME: '/nonexistent' });

test('create --repo shows each setup phase and prints the id when ready', async () => {
  serve(status(4, 'ready', { durations: { cloning: 1200, installing: 2500 } }));
  const r = await berthCli(['create', '--repo', 'acme/app@dev'], env());
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`${VIEW.id}\n`);
  expect(r.stderr.split('\n').filter((l) => l.startsWith('setup:'))).toEqual([
    'setup: queued acme/app@dev',
    'setup: cloning acme/app@dev',
    `setup: installing ${'a'.repeat(12)}`,
    'setup: ready after 4.0 s (cloning 1.2 s, installing 2.5 s)',
  ]);
  const post = fake.seen.find((s) => s.method === 'POST' && s.url.endsWith('/setup'));
  expect(JSON.parse(post?.body ?? '{}')).toEqual({ repo: 'acme/app', branch: 'dev' });
}, 30_000);

test("a failed setup exits 1, prints the id (the container JSON with the failed status under --json) and the setup's real status", async () => {
  serve(
    status(4, 'failed', {
      error: { code: 'REPO_NOT_FOUND', message: 'no such repository \u001b]0;pwned\u0007' },
      logTail: 'fatal: not found\n\u001b[2Jcleared\n',
    }),
  );
  const r = await berthCli(['create', '--repo', 'acme/app@dev', '--json'], env());
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('setup: failed after 4.0 s: REPO_NOT_FOUND: no such repository ?]0;pwned?');
  expect(r.stderr).toContain(
    `  | fatal: not found\n  | ?[2Jcleared\nberth: setup of ${VIEW.id} failed (REPO_NOT_FOUND: no such repository ?]0;pwned?); the container is kept (berth rm ${VIEW.id} removes it)\n`,
  );
  // No invented HTTP status: the setup was accepted (202); its status says it failed.
  expect(r.stderr).not.toMatch(/HTTP \d+/);
  // Nothing from the workspace reaches the terminal as an escape sequence.
  expect(r.stderr).not.toContain('\u001b');
  expect(JSON.parse(r.stdout)).toMatchObject({ id: VIEW.id, setup: { phase: 'failed', error: { code: 'REPO_NOT_FOUND' } } });
  const plain = await berthCli(['create', '--repo', 'acme/app@dev'], env());
  expect([plain.code, plain.stdout]).toEqual([1, `${VIEW.id}\n`]);
}, 30_000);

test('when the gateway stops answering mid-setup, the id is printed with the last phase seen, not "did not start"', async () => {
  fake.handler = (req, res) => {
    const send = (code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'POST' && req.url === '/api/containers') return send(201, { ...VIEW, warm: true });
    if (req.method === 'POST' && req.url.endsWith('/setup')) return send(202, status(1, 'queued'));
    res.socket?.destroy();
  };
  const r = await berthCli(['create', '--repo', 'acme/app@dev'], env());
  expect([r.code, r.stdout]).toEqual([1, `${VIEW.id}\n`]);
  expect(r.stderr).toMatch(
    new RegExp(`berth: setup of ${VIEW.id} is at phase queued \\(seq 1\\); stopped waiting: .*GET /api/containers/${VIEW.id}/setup failed`),
  );
}, 60_000);
