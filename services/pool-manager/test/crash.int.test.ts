import { afterAll, beforeAll, expect, test } from 'vitest';
import { BerthError, WORKLOAD_LABELS } from '@berth/contracts';
import { Redis, request } from '@berth/service-kit';
import { hostKeys } from '../src/state/keys.js';
import { clientNats, containersOf, removeAllOf, startInfra, testHostEnv, waitFor, type Infra } from './harness.js';
import { ServiceProcess, sleep } from '@berth/service-kit/testing';

let infra: Infra;
let env: Record<string, string>;
let pm: ServiceProcess;

beforeAll(async () => {
  infra = await startInfra();
  env = { ...testHostEnv({ RECONCILE_INTERVAL_MS: '2000' }), NATS_URL: infra.nats.url, REDIS_URL: infra.redis.url };
  pm = new ServiceProcess('pool-manager', env);
  pm.start();
});

afterAll(async () => {
  await pm?.kill();
  await removeAllOf(env.BERTH_HOST_ID!);
  await infra?.dispose();
});

let retries = 0;

/** A caller that retries retryable errors with the same requestId, as the gateway does. */
async function createWithRetry(nc: Awaited<ReturnType<typeof clientNats>>, requestId: string) {
  const started = Date.now();
  for (;;) {
    try {
      return await request(nc, 'containerCreate', { requestId, owner: 'default' }, { timeoutMs: 3_000 });
    } catch (err) {
      if (!(err instanceof BerthError) || !err.retryable || Date.now() - started > 60_000) throw err;
      retries += 1;
      await sleep(200);
    }
  }
}

test('killing pool-manager mid-claim leaves no orphan container, no leaked port and no double claim', async () => {
  const nc = await clientNats(infra, env.BERTH_HOST_ID!);
  await waitFor('pool-manager answering', async () => (await request(nc, 'poolList', {}).catch(() => undefined))?.pools[0]?.warm === 3, 30_000);

  const requestIds = Array.from({ length: 24 }, (_, i) => `crash-test-${i}-${Date.now()}`);
  const results = requestIds.map(async (id, i) => {
    await sleep(i * 15);
    return createWithRetry(nc, id);
  });
  // Kill while claims and cold creates are in flight, then restart.
  await sleep(120);
  await pm.kill('SIGKILL');
  await sleep(300);
  pm.start();
  const replies = await Promise.all(results);
  // The kill did land on requests in flight.
  expect(retries).toBeGreaterThan(0);

  // Every request got exactly one container, and no container went to two requests.
  const ids = replies.map((r) => r.id);
  expect(new Set(ids).size).toBe(requestIds.length);
  // A retry after recovery is still idempotent.
  const again = await createWithRetry(nc, requestIds[0]!);
  expect(again.id).toBe(ids[0]);

  // Let a reconcile pass settle the truth, then compare Docker with Redis.
  const redis = new Redis(infra.redis.url);
  const keys = hostKeys(env.BERTH_HOST_ID!);
  // Refills keep going after the crash, so compare snapshots until one is taken between two fills:
  // records, containers and the ports hash (exactly the ports the containers carry) all agree.
  const labelledPorts = (cs: Awaited<ReturnType<typeof containersOf>>) =>
    cs.flatMap((c) =>
      Object.values(JSON.parse(c.Labels[WORKLOAD_LABELS.ports]!) as Record<string, number>).map((p) => [String(p), c.Labels[WORKLOAD_LABELS.id]!] as const),
    );
  await waitFor(
    'Docker and Redis agree',
    async () => {
      const containers = (await containersOf(env.BERTH_HOST_ID!)).filter((c) => c.State === 'running');
      const [recordIds, portsHash, again] = [(await redis.smembers(keys.all)).sort(), await redis.hgetall(keys.ports), await containersOf(env.BERTH_HOST_ID!)];
      const dockerIds = containers.map((c) => c.Labels[WORKLOAD_LABELS.id]!).sort();
      const stable = again.length === containers.length;
      return stable &&
        JSON.stringify(recordIds) === JSON.stringify(dockerIds) &&
        JSON.stringify(Object.fromEntries(labelledPorts(containers))) === JSON.stringify(portsHash)
        ? true
        : undefined;
    },
    30_000,
  );

  const containers = await containersOf(env.BERTH_HOST_ID!);
  expect(containers.every((c) => c.State === 'running')).toBe(true);
  const byId = new Map(containers.map((c) => [c.Labels[WORKLOAD_LABELS.id]!, c]));
  for (const id of ids) {
    expect(byId.has(id), `claimed ${id} exists`).toBe(true);
    expect(await redis.hget(keys.workspace(id), 'state')).toBe('claimed');
  }
  // No host port is shared by two containers.
  const labelled = labelledPorts(containers);
  expect(new Set(labelled.map(([p]) => p)).size).toBe(labelled.length);
  // Claimed containers are never back in a warm list.
  const warm = await redis.lrange(keys.warm('default'), 0, -1);
  expect(warm.filter((id) => ids.includes(id))).toEqual([]);

  // Deleting everything returns every port but the warm ones.
  await Promise.all(ids.map((id) => request(nc, 'containerDelete', { id, owner: 'default' })));
  const left = await containersOf(env.BERTH_HOST_ID!);
  expect(left.every((c) => !ids.includes(c.Labels[WORKLOAD_LABELS.id]!))).toBe(true);
  const portsAfter = Object.values(await redis.hgetall(keys.ports));
  expect(portsAfter.every((id) => !ids.includes(id))).toBe(true);
  redis.disconnect();
  await nc.close();
}, 120_000);
