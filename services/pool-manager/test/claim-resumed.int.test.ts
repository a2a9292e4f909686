import { request, createLogger, Redis, type Stopper } from '@berth/service-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadPoolManagerConfig } from '../src/config.js';
import { DockerDriver } from '../src/driver/docker-driver.js';
import { startPoolManager, type PoolManager } from '../src/service.js';
import { clientNats, containersOf, removeAllOf, startInfra, testHostEnv, waitFor, type Infra } from './harness.js';
import { newRequestId, waitForWarm } from './helpers.js';
import { WORKLOAD_LABELS as LABELS } from '@berth/contracts';
import { isClaimMarked } from '../src/driver/workload-names.js';

// An acknowledged claim is never lost (issue 17): a warm-pool fill slow enough for reconcile to take
// it for abandoned is finished by reconcile (marked warm) while its creator still runs; the container
// is claimed and the caller told so; then the creator reaches its own "ready" step. It used to see
// the record no longer `creating`, take that for a failed create and remove the claimed container,
// so the caller's first delete answered 404.

/** Holds the first start check of a fill (after its container started) until released. */
class GatedDriver extends DockerDriver {
  armed = false;
  held?: { ref: string; release: () => void };
  readonly reached: Promise<string>;
  private reach!: (ref: string) => void;

  constructor(socket: string) {
    super(socket);
    this.reached = new Promise((r) => {
      this.reach = r;
    });
  }

  override async exitedWithin(ref: string, ms: number): Promise<boolean> {
    if (this.armed && !this.held) {
      await new Promise<void>((release) => {
        this.held = { ref, release };
        this.reach(ref);
      });
    }
    return super.exitedWithin(ref, ms);
  }
}

let infra: Infra;
let pm: PoolManager;
let nc: Awaited<ReturnType<typeof clientNats>>;
let driver: GatedDriver;
const stoppers: Stopper[] = [];
const env = testHostEnv({
  POOLS: JSON.stringify([{ name: 'default', targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 }]),
  CREATE_GRACE_MS: '1000',
  RECONCILE_INTERVAL_MS: '3600000',
  REFILL_DELAY_MS: '0',
});
const hostId = env.BERTH_HOST_ID!;

beforeAll(async () => {
  infra = await startInfra();
  const config = loadPoolManagerConfig({ ...env, NATS_URL: infra.nats.url, REDIS_URL: infra.redis.url });
  driver = new GatedDriver(config.DOCKER_SOCKET);
  pm = await startPoolManager(config, createLogger('pool-manager', 'error'), (s) => stoppers.push(s), driver);
  nc = await clientNats(infra, hostId);
  await waitForWarm(nc, 1);
}, 90_000);

afterAll(async () => {
  driver?.held?.release();
  await nc?.close();
  for (const s of stoppers.reverse()) await s();
  await removeAllOf(hostId);
  await infra?.dispose();
});

const create = () => request(nc, 'containerCreate', { requestId: newRequestId(), owner: 'alice' }, { timeoutMs: 30_000 });

/** Puts a claimed workspace back in Redis as warm, as a redis-server that lost the claim's write would have it. */
async function rollBackClaim(id: string): Promise<void> {
  const k = pm.store.keys;
  const redis = new Redis(infra.redis.url);
  try {
    await redis
      .multi()
      .hset(k.workspace(id), 'state', 'warm', 'owner', '', 'requestId', '', 'claimedAt', '0')
      .zrem(k.claimed, id)
      .lpush(k.warm('default'), id)
      .exec();
  } finally {
    redis.disconnect();
  }
}

it('a container claimed after reconcile finished its slow create stays claimed when its creator catches up', async () => {
  driver.armed = true;
  await create();
  // The refill's container runs; its creator waits in the start check.
  const ref = await driver.reached;
  const fillId = (await containersOf(hostId)).find((c) => c.Id === ref)?.Labels[LABELS.id];
  expect(fillId).toBeDefined();
  await waitFor('the fill past the create grace', async () => Date.now() - ((await pm.store.get(fillId!))?.createdAt ?? Date.now()) > 1_100, 5_000);

  const report = await pm.reconciler.run();
  expect(report?.resumed).toBe(1);
  expect((await pm.store.get(fillId!))?.state).toBe('warm');

  const claimed = await create();
  expect(claimed).toMatchObject({ id: fillId, warm: true });

  // The creator catches up; wait for the outcome it publishes ('created', or 'failed' when it gave up).
  const outcome = nc.subscribe(`berth.evt.container.${fillId}.*`, { max: 1 });
  await nc.flush();
  driver.held!.release();
  for await (const m of outcome) expect(m.subject).not.toMatch(/\.failed$/);

  expect((await containersOf(hostId)).some((c) => c.Id === ref)).toBe(true);
  expect(await request(nc, 'containerGet', { id: fillId!, owner: 'alice' })).toMatchObject({ id: fillId, state: 'claimed' });
  expect(await request(nc, 'containerDelete', { id: fillId!, owner: 'alice' })).toEqual({ id: fillId, removed: true });
}, 60_000);

it("a claim Redis lost after its claim marker was written comes back as the marker's, not as warm", async () => {
  await waitForWarm(nc, 1);
  const claimed = await create();
  const marked = await waitFor(
    'the claim marker',
    async () => (await containersOf(hostId)).find((c) => c.Labels[LABELS.id] === claimed.id && isClaimMarked(c.Names[0] ?? '')),
    10_000,
  );
  // redis-server killed while its AOF write was postponed (a slow fsync): the claim never reached the file.
  await rollBackClaim(claimed.id);
  await pm.reconciler.run();
  expect(await pm.store.get(claimed.id)).toMatchObject({ state: 'claimed', owner: 'alice', ref: marked.Id });
  // Never handed to another caller: the next claim gets another container.
  const next = await request(nc, 'containerCreate', { requestId: newRequestId(), owner: 'bob' }, { timeoutMs: 30_000 });
  expect(next.id).not.toBe(claimed.id);
  expect(await request(nc, 'containerDelete', { id: claimed.id, owner: 'alice' })).toEqual({ id: claimed.id, removed: true });
  await request(nc, 'containerDelete', { id: next.id, owner: 'bob' });
}, 60_000);

it('a claim a killed redis-server lost is put back before it is read or claimed again', async () => {
  await waitForWarm(nc, 1);
  const claimed = await create();
  // As if redis-server acknowledged the claim with its AOF write postponed behind a slow fsync, then was killed.
  await rollBackClaim(claimed.id);
  await infra.redis.restart('SIGKILL');

  expect(await request(nc, 'containerGet', { id: claimed.id, owner: 'alice' }, { timeoutMs: 30_000 })).toMatchObject({ id: claimed.id, state: 'claimed' });
  const next = await request(nc, 'containerCreate', { requestId: newRequestId(), owner: 'bob' }, { timeoutMs: 30_000 });
  expect(next.id).not.toBe(claimed.id);
  expect(await request(nc, 'containerDelete', { id: claimed.id, owner: 'alice' })).toEqual({ id: claimed.id, removed: true });
  await request(nc, 'containerDelete', { id: next.id, owner: 'bob' });
}, 60_000);
