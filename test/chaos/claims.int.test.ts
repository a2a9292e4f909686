import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from '@berth/service-kit';
import { sleep } from '@berth/service-kit/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { send, type Answer } from './http.js';

// Claims and deletes under faults: while OPS create+delete pairs run concurrently through the HTTP
// API, nats-server, redis-server, pool-manager and the gateway are killed (SIGKILL) and restarted
// in turn. Afterwards: every request was answered in time, no container id went to two creates,
// and after recovery Docker, Redis and the API agree (no leaked container, claim or host port).
// CHAOS_OPS scales it up (1000 by hand; CI runs the default).
const OPS = Number(process.env.CHAOS_OPS ?? 100);
const WORKERS = Number(process.env.CHAOS_WORKERS ?? 8);
const ANSWER_MS = 5_000;
const POOL_SIZE = 6;
/** A retryable answer: the caller tries again (with the same Idempotency-Key for a create). */
const RETRYABLE = new Set([429, 503, 504]);

let stack: LocalStack;
const run = randomBytes(4).toString('hex');

beforeAll(async () => {
  stack = await startLocalStack(
    {
      POOLS: JSON.stringify([{ name: 'default', targetSize: POOL_SIZE, minSize: 1, maxCreating: 3, memoryMb: 64, pids: 64 }]),
      MAX_CONTAINERS: '24',
      RECONCILE_INTERVAL_MS: '2000',
      CREATE_GRACE_MS: '3000',
    },
    'warn',
    {
      // Each NATS call gives up well inside the 5 s answer budget (a create may retry once).
      gatewayEnv: { REQUEST_TIMEOUT_MS: '2000', RATE_LIMIT_RPS: '0' },
      // Error lines (an INTERNAL's cause) go in the failure message.
      keepAllOutput: true,
    },
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** The services' error-level log lines (pino level 50 and up). */
const errorLines = () =>
  [stack.poolManager, stack.gateway]
    .flatMap((p) => p.allOutput.split('\n').map((line) => `${p.service}: ${line}`))
    .filter((line) => /"level":(5|6)\d/.test(line))
    .join('\n');

interface Tally {
  answers: (Answer & { what: string })[];
  /** container id → the Idempotency-Keys whose create returned it */
  createdBy: Map<string, Set<string>>;
  done: number;
  /** deletes answered 404 after an earlier attempt of theirs may have deleted */
  deleteNotFound: number;
  /** acknowledged claims whose first delete found nothing */
  lostClaims: string[];
  failed: string[];
  /** Called with each acknowledged create, as it is received (targeted kills wait for one). */
  onCreated: () => void;
}

/** Retries retryable answers and refused connections (a client's loop) for up to 90 s. */
async function untilOk(
  t: Tally,
  what: string,
  call: () => Promise<Answer>,
  ok: (a: Answer) => boolean,
  deadlineMs = 90_000,
): Promise<{ ok?: Answer; last?: Answer; mayHaveActed: boolean }> {
  const until = Date.now() + deadlineMs;
  let last: Answer | undefined;
  // Whether an earlier attempt may have done the work although its answer was lost.
  let mayHaveActed = false;
  while (Date.now() < until) {
    last = await call();
    t.answers.push({ ...last, what });
    if (ok(last)) return { ok: last, mayHaveActed };
    if (last.status !== 'refused' && last.status !== 'conn' && !(typeof last.status === 'number' && RETRYABLE.has(last.status))) break;
    if (last.status !== 'refused') mayHaveActed = true;
    await sleep(150 + Math.random() * 150);
  }
  return { last, mayHaveActed };
}

async function operation(t: Tally, i: number): Promise<void> {
  const key = `chaos-${run}-${i}`;
  const api = (method: string, path: string, headers?: Record<string, string>, body?: unknown) => () =>
    send(stack.url, stack.token, method, path, headers, body);
  const { ok: created, last } = await untilOk(t, 'create', api('POST', '/api/containers', { 'idempotency-key': key }, {}), (a) => a.status === 201);
  if (!created) {
    t.failed.push(`create ${key}: ${JSON.stringify(last)}`);
    return;
  }
  t.onCreated();
  const id = created.json.id as string;
  t.createdBy.set(id, (t.createdBy.get(id) ?? new Set()).add(key));
  const del = await untilOk(t, 'delete', api('DELETE', `/api/containers/${id}`), (a) => a.status === 200 || a.status === 404);
  if (!del.ok) {
    t.failed.push(`delete ${id}: ${JSON.stringify(del.last)}`);
    return;
  }
  if (del.ok.status === 404) {
    // Fine after an attempt that may have deleted already (its answer was lost: a dropped
    // connection, 503, 504); otherwise the acknowledged claim itself was lost (e.g. Redis dropped it).
    if (!del.mayHaveActed) t.lostClaims.push(id);
    else t.deleteNotFound += 1;
  }
  t.done += 1;
}

/**
 * Kills (SIGKILL) and restarts each part in turn until told to stop. Each fault hits a working
 * stack: the next kill waits until /health answers again. A service that exits on its own (it
 * cannot start while NATS or Redis is down) is restarted, as a container restart policy would.
 */
async function chaos(stop: () => boolean, log: string[], created: () => Promise<void>): Promise<void> {
  const services = [stack.poolManager, stack.gateway];
  const supervisor = setInterval(() => {
    for (const p of services) if (!stop() && !p.running) p.start();
  }, 250);
  const victims: [string, () => Promise<void>][] = [
    ['nats-server', () => stack.nats.restart('SIGKILL')],
    ['redis-server', () => stack.redis.restart('SIGKILL')],
    ['pool-manager', () => stack.poolManager.kill('SIGKILL')],
    ['gateway', () => stack.gateway.kill('SIGKILL')],
  ];
  try {
    for (let n = 0; !stop(); n++) {
      await healthy(20_000).catch(() => undefined);
      await sleep(1_000 + Math.random() * 1_000);
      if (stop()) break;
      const [name, kill] = victims[n % victims.length]!;
      // Every other round of Redis and pool-manager kills lands the moment a create was acknowledged
      // (its claim marker not yet written, Redis' AOF write maybe not yet in the file).
      const targeted = (name === 'redis-server' || name === 'pool-manager') && Math.floor(n / victims.length) % 2 === 1;
      if (targeted) await Promise.race([created(), sleep(3_000)]);
      if (stop()) break;
      log.push(`${new Date().toISOString()} kill ${name}${targeted ? ' (right after a 201)' : ''}`);
      await kill();
    }
  } finally {
    clearInterval(supervisor);
  }
}

async function healthy(timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (
      await fetch(`${stack.url}/health`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(200);
  }
  throw new Error(`stack not healthy\n${stack.outputTail()}`);
}

/** Docker's and Redis' view of this host, and the ports Docker published. */
async function views(redis: Redis) {
  const lines = execFileSync(
    'docker',
    ['ps', '-a', '--filter', `label=berth.host=${stack.hostId}`, '--format', '{{.Label "berth.id"}}\t{{.State}}\t{{.Ports}}'],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
  const docker = new Map(lines.map(([id, state, ports]) => [id!, { state: state!, ports: [...(ports ?? '').matchAll(/:(\d+)->/g)].map((m) => m[1]!) }]));
  const prefix = `berth:host:${stack.hostId}:`;
  const ids = await redis.smembers(`${prefix}all`);
  const records = new Map(await Promise.all(ids.map(async (id) => [id, await redis.hgetall(`${prefix}ws:${id}`)] as const)));
  const ports = await redis.hgetall(`${prefix}ports`);
  return { docker, records, ports };
}

test(
  `${OPS} claims and deletes while nats-server, redis-server, pool-manager and the gateway are killed and restarted`,
  async () => {
    const waiters: (() => void)[] = [];
    const t: Tally = {
      answers: [],
      createdBy: new Map(),
      done: 0,
      deleteNotFound: 0,
      lostClaims: [],
      failed: [],
      onCreated: () => {
        for (const w of waiters.splice(0)) w();
      },
    };
    const created = () =>
      new Promise<void>((r) => {
        waiters.push(r);
      });
    const kills: string[] = [];
    let next = 0;
    let finished = false;
    const started = Date.now();
    const chaosDone = chaos(() => finished, kills, created);
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < OPS) await operation(t, next++);
      }),
    );
    finished = true;
    await chaosDone;
    const opsMs = Date.now() - started;

    // Recovery: everything running again, then at least one reconcile and a full pool.
    for (const p of [stack.poolManager, stack.gateway]) if (!p.running) p.start();
    await healthy();
    const redis = new Redis(stack.redis.url);
    try {
      let v = await views(redis);
      const settled = Date.now() + 45_000;
      for (;;) {
        const pool = await send(stack.url, stack.token, 'GET', '/api/pools');
        const p = pool.json?.pools?.[0];
        const recordIds = [...v.records.keys()].sort();
        const agree = JSON.stringify([...v.docker.keys()].sort()) === JSON.stringify(recordIds);
        if (p && p.creating === 0 && p.warm === POOL_SIZE && agree && Date.now() - started > opsMs + 4_000) break;
        if (Date.now() > settled) break;
        await sleep(500);
        v = await views(redis);
      }

      const summary = {
        ops: OPS,
        workers: WORKERS,
        opsSeconds: Math.round(opsMs / 1000),
        kills: kills.length,
        targetedKills: kills.filter((k) => k.includes('201')).length,
        requests: t.answers.length,
        retries: t.answers.length - 2 * OPS,
        statuses: Object.fromEntries(
          [...new Set(t.answers.map((a) => `${a.what} ${a.status}${a.code ? ` ${a.code}` : ''}`))]
            .sort()
            .map((s) => [s, t.answers.filter((a) => `${a.what} ${a.status}${a.code ? ` ${a.code}` : ''}` === s).length]),
        ),
        maxAnswerMs: Math.round(Math.max(...t.answers.map((a) => a.ms))),
        deleteNotFoundAfterRetry: t.deleteNotFound,
        lostClaims: t.lostClaims.length,
      };
      console.log(`chaos summary ${JSON.stringify(summary)}\nkills:\n${kills.join('\n')}`);

      // Every operation completed (with retries), none hung, every answer in time and retryable or final.
      expect(t.failed, `${t.failed.join('\n')}\n${errorLines()}`).toEqual([]);
      expect(t.done).toBe(OPS);
      expect(kills.length).toBeGreaterThanOrEqual(4);
      const late = t.answers.filter((a) => a.ms > ANSWER_MS || a.status === 'hung');
      expect(late.map((a) => `${a.what} ${a.status} ${Math.round(a.ms)} ms`)).toEqual([]);
      const bad = t.answers.filter(
        (a) =>
          typeof a.status === 'number' &&
          !RETRYABLE.has(a.status) &&
          !(a.what === 'create' && a.status === 201) &&
          !(a.what === 'delete' && (a.status === 200 || a.status === 404)),
      );
      expect(
        bad.map((a) => `${a.what} ${a.status} ${a.code}`),
        errorLines(),
      ).toEqual([]);

      // Every acknowledged claim survived every kill (Redis' included: see docs/reliability.md on fsync).
      expect(t.lostClaims).toEqual([]);
      // No container id was handed to two different creates.
      const twice = [...t.createdBy].filter(([, keys]) => keys.size > 1);
      expect(twice).toEqual([]);
      expect(t.createdBy.size).toBe(OPS);

      // No leaked claim: the caller deleted everything it got, and the API shows nothing.
      const list = await send(stack.url, stack.token, 'GET', '/api/containers');
      expect(list.json?.containers).toEqual([]);
      // Docker and Redis agree: every container has a record and vice versa, all warm and running.
      expect([...v.docker.keys()].sort()).toEqual([...v.records.keys()].sort());
      for (const [id, r] of v.records) {
        expect(r.state, id).toBe('warm');
        expect(v.docker.get(id)?.state, id).toBe('running');
      }
      // No leaked host port: Redis holds exactly the ports Docker published, each for its container.
      const published = Object.fromEntries([...v.docker].flatMap(([id, d]) => d.ports.map((p) => [p, id])));
      expect(v.ports).toEqual(published);
    } finally {
      redis.disconnect();
    }
  },
  Math.max(600_000, OPS * 4_000),
);
