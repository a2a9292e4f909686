import { LOGS, LogEventSchema, type LogEvent } from '@berth/contracts';
import { Berth, type LogLine } from '../../packages/sdk/src/index.js';
import { connectNats, createLogger } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { streamMessages } from '../support/secret-scan.js';
import { startSetupFixture, type SetupFixture } from '../support/setup-fixture.js';
import { openSse } from '../support/sse-client.js';

// Setup shows its work: clone, install and start output in the container's logs as stream `setup`,
// live (the install below waits for the test to have seen its first line), in order with the
// container's stdout, and scrubbed of the token, env secrets and credentials in URLs.
const TOKEN = `ghp_${'SetupOutputTok3n'.repeat(2)}`;
const ENV_SECRET = 'env-secret-printed-by-install-7731';
const URL_SECRET = 'url-password-printed-by-install-5520';
const GO = '/tmp/go-setup';
let f: SetupFixture;

beforeAll(async () => {
  f = await startSetupFixture(TOKEN);
}, 120_000);

afterAll(async () => {
  await f?.stop();
});

/** An install that prints known lines (secrets among them), then waits until the test lets it go on. */
const gatedInstall = (tag: string) =>
  [
    `echo "${tag}-line-1 clone https://x-access-token:${URL_SECRET}@github.com/acme/app.git"`,
    'echo "env $API_KEY"',
    `echo "token ${TOKEN}"`,
    `echo ${tag}-line-2 >&2`,
    `i=0; while [ ! -f ${GO} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; [ -f ${GO} ] || exit 7`,
    `echo ${tag}-line-3`,
    'npm ci --prefer-offline --no-audit --no-fund',
  ].join('\n');

/** Events as they arrive, and a way to wait for one. */
function collector() {
  const events: (LogEvent & { id: number })[] = [];
  const waiters: { pred: (e: LogEvent) => boolean; resolve: () => void }[] = [];
  const add = (e: LogEvent, id: number) => {
    events.push({ ...e, id });
    for (const w of [...waiters])
      if (w.pred(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  const waitFor = (pred: (e: LogEvent) => boolean, what: string, ms = 60_000) =>
    events.some(pred)
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no log line ${what} in ${ms} ms; got ${JSON.stringify(events.map((e) => [e.stream, e.line]))}\n${f.stack.outputTail()}`)),
            ms,
          );
          waiters.push({
            pred,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        });
  return { events, add, waitFor };
}

describe('setup output in the container logs', () => {
  test('clone, install and start lines arrive live as stream setup, in order with stdout, with phases, and no secret', async () => {
    const { id } = await f.client.claim();
    const c = collector();
    const sse = openSse(`${f.stack.url}/api/containers/${id}/logs?tail=0`, { authorization: `Bearer ${f.stack.token}` }, (m) => {
      c.add(LogEventSchema.parse(JSON.parse(m.data)), Number(m.id));
    });
    expect(await sse.status).toBe(200);
    try {
      const r = await f.client.api('POST', `/api/containers/${id}/setup`, {
        repo: 'acme/app',
        branch: 'main',
        githubToken: TOKEN,
        envVars: { API_KEY: ENV_SECRET },
        installCommand: gatedInstall('install'),
      });
      expect(r.status, r.text).toBe(202);

      // Live: the install's first line is in the logs while the install still runs (it waits for us).
      await c.waitFor((e) => e.stream === 'setup' && e.line.startsWith('install-line-1'), 'install-line-1');
      expect((await f.client.api('GET', `/api/containers/${id}/setup`)).json()).toMatchObject({ phase: 'installing' });
      await f.client.exec(id, ['touch', GO]);
      const done = await f.client.awaitSetup(id);
      expect(done, JSON.stringify(done)).toMatchObject({ phase: 'ready' });
      await c.waitFor((e) => e.stream === 'setup' && e.phase === 'ready', 'of phase ready');

      const setup = c.events.filter((e) => e.stream === 'setup');
      const lines = setup.map((e) => e.line);
      const expected = [
        '[setup] cloning acme/app@main',
        `[setup] checked out ${done.sha} (clone)`,
        '[setup] installing: echo "install-line-1 clone https://***@github.com/acme/app.git"',
        'install-line-1 clone https://***@github.com/acme/app.git',
        'env ***',
        'token ***',
        'install-line-3',
        '[setup] starting: npm run dev (PORT=3000)',
        '[setup] ready: port 3000 answers',
      ];
      // In this order (other lines, git's and npm's, between them).
      expect(
        lines.filter((l) => expected.includes(l)),
        JSON.stringify(lines),
      ).toEqual(expected);
      expect(lines).toContain('install-line-2');
      // Each line says its phase; event ids only grow.
      const phaseOf = (l: string) => setup.find((e) => e.line === l)?.phase;
      expect(expected.map(phaseOf)).toEqual(['cloning', 'cloning', 'installing', 'installing', 'installing', 'installing', 'installing', 'starting', 'ready']);
      expect(c.events.map((e) => e.id)).toEqual([...c.events.map((e) => e.id)].sort((a, b) => a - b));
      // The dev server's own stdout comes between the start line and the ready line.
      const at = (pred: (e: LogEvent) => boolean) => c.events.findIndex(pred);
      const listening = at((e) => e.stream === 'stdout' && e.line === 'listening on 3000');
      expect(listening).toBeGreaterThan(at((e) => e.line.startsWith('[setup] starting:')));
      expect(listening).toBeLessThan(at((e) => e.line.startsWith('[setup] ready')));

      // Stored: a plain read shows them too.
      const stored = await f.client.api('GET', `/api/containers/${id}/logs?follow=false`);
      expect(stored.text).toContain('install-line-3\n');

      // No secret anywhere the output went: events, LOGS, the services' own logs.
      const nc = await connectNats({ url: f.stack.nats.url, name: 'setup-output-scan', logger: createLogger('test', 'silent') });
      const logs = await streamMessages(nc, LOGS.stream).finally(() => nc.close());
      expect(logs.some(([where]) => where.includes(LOGS.subject(id, 'setup')))).toBe(true);
      const items = [
        JSON.stringify(c.events),
        stored.text,
        ...logs.map(([, text]) => text),
        f.stack.poolManager.allOutput,
        f.stack.logStreamer.allOutput,
        f.stack.gateway.allOutput,
      ];
      for (const secret of [TOKEN, ENV_SECRET, URL_SECRET])
        expect(
          items.filter((t) => t.includes(secret)),
          secret,
        ).toEqual([]);
    } finally {
      sse.destroy();
    }
  }, 120_000);

  test("the SDK's setup() hands each line to onOutput as it comes", async () => {
    const sdk = new Berth({ url: f.stack.url, apiKey: f.stack.token });
    const c = await sdk.containers.create({});
    const got: LogLine[] = [];
    let released: Promise<unknown> | undefined;
    // The install waits until onOutput has seen its first line: a callback called only at the end would fail it (exit 7).
    const status = await c.setup(
      { repo: 'acme/app', branch: 'main', githubToken: TOKEN, installCommand: gatedInstall('sdk') },
      {
        pollIntervalMs: 200,
        onOutput: (l) => {
          got.push(l);
          if (l.line.startsWith('sdk-line-1')) released = c.exec(['touch', GO]);
        },
      },
    );
    await released;
    expect(status.phase).toBe('ready');
    const setup = got.filter((l) => l.stream === 'setup');
    expect(setup[0]).toMatchObject({ line: '[setup] cloning acme/app@main', phase: 'cloning' });
    expect(setup.map((l) => l.line)).toEqual(expect.arrayContaining(['sdk-line-1 clone https://***@github.com/acme/app.git', 'token ***', 'sdk-line-3']));
    // setup() returned after the last line: nothing of the setup is left to come.
    expect(setup.at(-1)).toMatchObject({ line: '[setup] ready: port 3000 answers', phase: 'ready' });
    expect(JSON.stringify(got)).not.toContain(TOKEN);
    await c.delete();
  }, 120_000);
});
