import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { berthCli } from './cli.js';
import { FakeGateway, VIEW, apiError } from './fake-gateway.js';

// `berth create --repo` shows the setup's output as it comes: the SDK's setup({ onOutput }) follows
// the container's logs from before the setup starts (a fake gateway stands in for the real stack,
// which test/e2e/setup-output.int.test.ts uses).
let fake: FakeGateway;
beforeAll(async () => {
  fake = await FakeGateway.start();
});
afterAll(async () => {
  await fake.close();
});

const status = (seq: number, phase: string) => ({
  id: VIEW.id,
  seq,
  phase,
  repo: 'acme/app',
  branch: 'dev',
  at: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(),
  startedAt: new Date(Date.UTC(2025, 0, 1)).toISOString(),
  durations: {},
});
const event = (id: number, stream: string, line: string, phase?: string) =>
  `id: ${id}\ndata: ${JSON.stringify({ stream, line, time: '2025-01-01T00:00:01.000000000Z', timestamp: 1735689601000, ...(phase && { phase }) })}\n\n`;

test('create --repo prints the setup lines and the dev server output live, made printable, before the id', async () => {
  let logs: ServerResponse | undefined;
  let polls = 0;
  fake.handler = (req, res) => {
    const send = (code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'POST' && req.url === '/api/containers') return send(201, { ...VIEW, warm: true });
    if (req.method === 'GET' && req.url === `/api/containers/${VIEW.id}/logs?tail=0`) {
      logs = res;
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': connected\n\n');
      return;
    }
    if (req.method === 'POST' && req.url.endsWith('/setup')) {
      logs?.write(event(10, 'setup', '[setup] installing: npm ci', 'installing') + event(11, 'setup', 'added 1 package \u001b]0;pwned\u0007', 'installing'));
      return send(202, status(1, 'queued'));
    }
    if (req.method === 'GET' && req.url.endsWith('/setup')) {
      if (polls++ === 0) return send(200, status(2, 'installing'));
      logs?.write(event(12, 'stdout', 'listening on 3000') + event(13, 'setup', '[setup] ready: port 3000 answers', 'ready'));
      return send(200, status(3, 'ready'));
    }
    return send(404, apiError('ROUTE_NOT_FOUND', false));
  };
  const r = await berthCli(['create', '--repo', 'acme/app@dev'], { BERTH_URL: fake.url, BERTH_API_KEY: 'k-cli-test-0123456789', HOME: '/nonexistent' });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe(`${VIEW.id}\n`);
  const lines = r.stderr.split('\n');
  expect(lines.filter((l) => l.startsWith('  '))).toEqual([
    '  [setup] installing: npm ci',
    '  added 1 package ?]0;pwned?',
    '  [stdout] listening on 3000',
    '  [setup] ready: port 3000 answers',
  ]);
  expect(r.stderr).not.toContain('\u001b');
  // The logs were followed before the setup was started.
  const order = fake.seen.map((s) => `${s.method} ${s.url.split('?')[0]!.split('/').at(-1)!}`);
  expect(order.indexOf('GET logs')).toBeLessThan(order.indexOf('POST setup'));
}, 30_000);
