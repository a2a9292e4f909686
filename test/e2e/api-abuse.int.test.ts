import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connectNats, createLogger, drainNats } from '@berth/service-kit';
import { callApi, waitFor } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sendHttp } from '../support/fuzz/http.js';
import { Rng } from '../support/fuzz/prng.js';
import { fuzz, summary, type FuzzReport } from '../support/fuzz/run.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { containerConfigs, findSecret, redisEntries, streamMessages } from '../support/secret-scan.js';

// The real stack under a smaller fuzz pass, then: still healthy, nothing leaked (containers,
// volumes) and the API token nowhere it should not be.
const COUNT = Number(process.env.FUZZ_STACK_COUNT ?? 300);
const POOL = { name: 'default', targetSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 };
/** Recognisable, so a grep cannot miss it. */
const TOKEN = `canary-${randomBytes(8).toString('hex')}-berth-api-token`;

let stack: LocalStack;
let report: FuzzReport;
let claimed: string;
/** Env and labels of every container seen during the run, taken before the fuzz or a cleanup removes it. */
const containersSeen = new Map<string, string>();
const snapshotContainers = () => {
  for (const [where, text] of containerConfigs(stack.hostId)) containersSeen.set(where, text);
};

const api = (method: string, path: string, body?: unknown) => callApi(stack.url, TOKEN, method, path, body);

beforeAll(async () => {
  stack = await startLocalStack(
    { POOLS: JSON.stringify([POOL]), MAX_CONTAINERS: '4' },
    'debug',
    // Limits off: this pass is about input handling; rate limiting has its own tests. image-builder
    // too, as scripts/up runs it: the template routes are fuzzed with the rest.
    { token: TOKEN, gatewayEnv: { RATE_LIMIT_RPS: '0', AUTH_FAILURES_PER_MINUTE: '0' }, keepAllOutput: true, imageBuilder: true },
  );
  const created = await api('POST', '/api/containers', {});
  expect(created.status).toBe(201);
  claimed = created.json.id as string;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('the real stack under fuzzed requests', () => {
  test(`${COUNT} generated requests: no 5xx, every error a contracts ErrorBody with a matching status, nothing internal`, async () => {
    snapshotContainers();
    const doc = await (await fetch(`${stack.url}/docs/json`)).json();
    report = await fuzz({
      doc,
      rng: Rng.fromEnv(),
      count: COUNT,
      token: TOKEN,
      knownIds: [claimed],
      secrets: [TOKEN],
      send: (req) => sendHttp(stack.url, req),
      // What a valid create made is given back at once, so the run cannot exhaust the host.
      after: async (req, res) => {
        if (req.method !== 'POST' || res.status !== 201 || !req.url.startsWith('/api/containers')) return;
        const made = JSON.parse(res.body) as { id?: string; volumeName?: string | null };
        if (!made.id || made.id === claimed) return;
        snapshotContainers();
        expect((await api('DELETE', `/api/containers/${made.id}`)).status).toBe(200);
        // Its named volume (made for this run's owner) goes too, through the API.
        if (made.volumeName) expect((await api('DELETE', `/api/volumes/${made.volumeName}`)).status).toBe(200);
      },
    });
    console.log(summary('real stack', report));
    expect(report.failures, `seed ${report.seed}`).toEqual([]);
    expect(report.sent).toBe(COUNT);
  }, 120_000);

  test('the token appears in no log line, error body, container env or label, Redis key or value, or EVENTS message', async () => {
    expect(report, 'the fuzz run ran first').toBeDefined();
    const logLines = `${stack.gateway.allOutput}\n${stack.poolManager.allOutput}`.split('\n').filter(Boolean);
    const nc = await connectNats({ url: stack.nats.url, name: 'secret-scan', logger: createLogger('test', 'warn') });
    const events = await streamMessages(nc, 'EVENTS').finally(() => drainNats(nc));
    const sources = {
      logs: logLines.map((l, i): [string, string] => [`log line ${i}`, l]),
      errorBodies: report.errorBodies.map((b, i): [string, string] => [`error body ${i}`, b]),
      containers: (snapshotContainers(), [...containersSeen]),
      redis: await redisEntries(stack.redis.url),
      events,
    };
    // Each source must hold something, or finding nothing in it proves nothing.
    for (const [name, items] of Object.entries(sources)) expect(items.length, name).toBeGreaterThan(0);
    expect(logLines.some((l) => l.includes('"service":"gateway"'))).toBe(true);
    for (const [name, items] of Object.entries(sources)) expect(findSecret(items, TOKEN), name).toEqual([]);
    console.log(
      `[secrets] scanned ${Object.entries(sources)
        .map(([n, i]) => `${i.length} ${n}`)
        .join(', ')}`,
    );
  }, 60_000);

  test('afterwards the stack still answers /health and holds no container beyond the pool', async () => {
    expect(stack.gateway.running && stack.poolManager.running).toBe(true);
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
    // The fuzz may already have deleted it with a valid DELETE.
    expect([200, 404]).toContain((await api('DELETE', `/api/containers/${claimed}`)).status);
    await waitFor(
      'only the warm pool to remain',
      async () => {
        const list = await api('GET', '/api/containers');
        const pools = (await api('GET', '/api/pools')).json.pools as { warm: number; claimed: number; creating: number }[];
        const docker = execFileSync('docker', ['ps', '-aq', '--filter', `label=berth.host=${stack.hostId}`], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean);
        return list.json.count === 0 && pools[0]?.claimed === 0 && pools[0].creating === 0 && docker.length === POOL.targetSize;
      },
      30_000,
      200,
    );
  }, 60_000);
});
