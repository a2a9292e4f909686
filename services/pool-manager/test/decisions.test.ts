import { BerthError } from '@berth/contracts';
import { startRedisServer, type ServerProcess } from '@berth/service-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { workspaceVolumeLabels, workspaceVolumeName } from '../src/driver/workload-driver.js';
import { decisionsWorld, type DecisionsWorld } from './support/decisions-world.js';

// Claim, reconcile and fill decisions over a fake engine (no Docker, no NATS); Redis is real
// because the decisions about claims, capacity and stops are its Lua scripts.
let redis: ServerProcess & { url: string };
const worlds: DecisionsWorld[] = [];
const world = async (env: Record<string, string> = {}) => {
  const w = await decisionsWorld(redis.url, env);
  worlds.push(w);
  return w;
};
const pools = (p: Record<string, unknown>) => ({ POOLS: JSON.stringify([{ name: 'default', image: 'berth/workspace:fake', memoryMb: 64, ...p }]) });
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (err: unknown) => (err instanceof BerthError ? err.code : String(err)),
  );
let n = 0;
const req = (owner = 'alice', extra: Record<string, unknown> = {}) => ({ requestId: `r${++n}`, owner, ...extra });
const byState = async (w: DecisionsWorld) => {
  const counts: Record<string, number> = {};
  for (const r of await w.store.all()) counts[r.state] = (counts[r.state] ?? 0) + 1;
  return counts;
};
/** A started host: reconcile at startup, then the fills it kicked. */
const started = async (env: Record<string, string> = {}) => {
  const w = await world(env);
  await w.reconciler.run(true);
  await w.settle();
  return w;
};

beforeAll(async () => {
  redis = await startRedisServer({ appendonly: false });
});
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await redis.dispose();
});

describe('claims', () => {
  it('hands out a warm workspace without creating one, then refills the pool', async () => {
    const w = await started();
    expect(await byState(w)).toEqual({ warm: 3 });
    const creates = w.driver.count('create');
    const got = await w.claims.create(req());
    expect(got.warm).toBe(true);
    expect(w.driver.count('create')).toBe(creates);
    expect(await w.store.get(got.id)).toMatchObject({ state: 'claimed', owner: 'alice' });
    await w.settle();
    expect(await byState(w)).toEqual({ warm: 3, claimed: 1 });
    // The claim marker (the engine-side name) is written for reconcile to read after a Redis loss.
    await expect.poll(() => w.driver.byId(got.id)?.name).toBe(w.names.claimed(got.id, 'alice'));
  });

  it('creates cold when the pool is empty', async () => {
    const w = await started(pools({ targetSize: 0, minSize: 0 }));
    const got = await w.claims.create(req());
    expect(got.warm).toBe(false);
    expect(w.driver.count('create')).toBe(1);
    expect(w.driver.byId(got.id)?.name).toBe(w.names.claimed(got.id, 'alice'));
    expect(await byState(w)).toEqual({ claimed: 1 });
  });

  it('creates cold for other ports even with warm ones there', async () => {
    const w = await started();
    const got = await w.claims.create(req('alice', { ports: [4100] }));
    expect(got.warm).toBe(false);
    expect(Object.keys(got.ports)).toEqual(['4100']);
    expect(await byState(w)).toEqual({ warm: 3, claimed: 1 });
  });

  it('answers a retried request with the same workspace', async () => {
    const w = await started(pools({ targetSize: 0, minSize: 0 }));
    const first = req();
    const a = await w.claims.create(first);
    const b = await w.claims.create(first);
    expect(b.id).toBe(a.id);
    expect(w.driver.count('create')).toBe(1);
  });

  it('refuses a second workspace of the same name for one owner, not for another', async () => {
    const w = await started();
    await w.claims.create(req('alice', { name: 'web' }));
    expect(await code(w.claims.create(req('alice', { name: 'web' })))).toBe('NAME_CONFLICT');
    expect((await w.claims.create(req('bob', { name: 'web' }))).warm).toBe(true);
  });

  it('refuses a cold create over the host budget before touching the engine', async () => {
    const w = await started({ ...pools({ targetSize: 0, minSize: 0 }), MAX_CONTAINERS: '1' });
    await w.claims.create(req());
    expect(await code(w.claims.create(req()))).toBe('CAPACITY_EXHAUSTED');
    expect(w.driver.count('create')).toBe(1);
  });

  it('a pool image missing on the host is IMAGE_NOT_FOUND', async () => {
    const w = await started(pools({ targetSize: 0, minSize: 0 }));
    w.driver.images.clear();
    expect(await code(w.claims.create(req()))).toBe('IMAGE_NOT_FOUND');
    expect(await byState(w)).toEqual({});
  });

  it('an image that cannot start is CONTAINER_EXITED (not retryable), with nothing left behind', async () => {
    const w = await started(pools({ targetSize: 0, minSize: 0 }));
    w.driver.failNext('create', 'cannot_start');
    expect(await code(w.claims.create(req()))).toBe('CONTAINER_EXITED');
    expect(await w.store.capacity()).toEqual({ count: 0, memoryMb: 0 });
    expect(w.events.map((e) => e.kind)).toEqual(['failed']);
  });

  it('an engine that does not answer is a retryable SERVICE_UNAVAILABLE', async () => {
    const w = await started(pools({ targetSize: 0, minSize: 0 }));
    w.driver.failNext('create', 'engine_unavailable');
    expect(await code(w.claims.create(req()))).toBe('SERVICE_UNAVAILABLE');
    expect(await w.store.capacity()).toEqual({ count: 0, memoryMb: 0 });
  });
});

describe('access and processes', () => {
  it("another owner's workspace is not found, for reading, commands and delete", async () => {
    const w = await started();
    const got = await w.claims.create(req('alice'));
    expect(await code(w.access.get(got.id, 'bob'))).toBe('CONTAINER_NOT_FOUND');
    expect(await code(w.processes.spawn(got.id, 'bob', ['true'], {}))).toBe('CONTAINER_NOT_FOUND');
    expect(await code(w.lifecycle.remove(got.id, 'bob'))).toBe('CONTAINER_NOT_FOUND');
    expect(await w.access.list('bob')).toEqual([]);
    expect((await w.access.list('alice')).map((c) => c.id)).toEqual([got.id]);
  });

  it('engine errors become CONTAINER_NOT_RUNNING and CONTAINER_NOT_FOUND', async () => {
    const w = await started();
    const got = await w.claims.create(req());
    const ref = w.driver.byId(got.id)!.ref;
    w.driver.exit(ref);
    expect(await code(w.processes.spawn(got.id, 'alice', ['true'], {}))).toBe('CONTAINER_NOT_RUNNING');
    w.driver.vanish(ref);
    expect(await code(w.processes.spawn(got.id, 'alice', ['true'], {}))).toBe('CONTAINER_NOT_FOUND');
    expect(await code(w.processes.usage(got.id, 'alice'))).toBe('CONTAINER_NOT_FOUND');
  });

  it('a delete removes container and volume, releases the record and refills', async () => {
    const w = await started();
    const got = await w.claims.create(req());
    await w.lifecycle.remove(got.id, 'alice');
    expect(w.driver.byId(got.id)).toBeUndefined();
    expect(w.driver.volumes.has(workspaceVolumeName(got.id))).toBe(false);
    expect(await w.store.get(got.id)).toBeUndefined();
    expect(w.events.filter((e) => e.id === got.id).map((e) => [e.kind, e.reason])).toEqual([
      ['created', undefined],
      ['claimed', undefined],
      ['removed', 'deleted'],
    ]);
  });
});

describe('reconcile', () => {
  it('after a Redis loss: claim-marked containers are claims again, warm ones are removed and refilled', async () => {
    const w = await started();
    const got = await w.claims.create(req());
    await expect.poll(() => w.driver.byId(got.id)?.name).toBe(w.names.claimed(got.id, 'alice'));
    await w.settle();
    await w.loseRedis();
    const report = await w.reconciler.run(true);
    expect(report).toMatchObject({ restoredClaims: 1, removedOrphans: 3 });
    expect(await w.access.get(got.id, 'alice')).toMatchObject({ id: got.id, ports: got.ports });
    await w.settle();
    expect(await byState(w)).toEqual({ warm: 3, claimed: 1 });
  });

  it('an exited warm container is removed and replaced; an exited claimed one is kept', async () => {
    const w = await started();
    const got = await w.claims.create(req());
    await w.settle();
    const warm = (await w.store.all()).find((r) => r.state === 'warm')!;
    w.driver.exit(warm.ref);
    w.driver.exit(w.driver.byId(got.id)!.ref);
    const report = await w.reconciler.run();
    expect(report?.removedOrphans).toBe(1);
    expect(await w.store.get(warm.id)).toBeUndefined();
    expect(w.events.find((e) => e.id === warm.id && e.kind === 'removed')?.reason).toBe('not running');
    expect((await w.store.get(got.id))?.state).toBe('claimed');
    await w.settle();
    expect(await byState(w)).toEqual({ warm: 3, claimed: 1 });
  });

  it('a record whose container vanished is released (at once at startup, after the grace otherwise)', async () => {
    const w = await started();
    const got = await w.claims.create(req());
    w.driver.vanish(w.driver.byId(got.id)!.ref);
    expect((await w.reconciler.run())?.releasedRecords).toBe(0);
    expect((await w.reconciler.run(true))?.releasedRecords).toBe(1);
    expect(await w.store.get(got.id)).toBeUndefined();
    expect(w.events.find((e) => e.id === got.id && e.kind === 'removed')?.reason).toBe('container gone');
  });

  it('removes a workspace volume left without container or record', async () => {
    const w = await started();
    await w.driver.ensureVolume(workspaceVolumeName('ws_orphan'), workspaceVolumeLabels(w.host.id, 'ws_orphan'));
    expect((await w.reconciler.run())?.removedVolumes).toBe(1);
    expect(w.driver.volumes.has(workspaceVolumeName('ws_orphan'))).toBe(false);
  });
});

describe('pool fill', () => {
  it('creates up to the target, at most maxCreating at a time', async () => {
    const w = await started(pools({ targetSize: 5, minSize: 1, maxCreating: 2 }));
    expect(await byState(w)).toEqual({ warm: 5 });
    expect(w.driver.count('create')).toBe(5);
    w.filler.kick('default');
    await w.settle();
    expect(w.driver.count('create')).toBe(5);
  });

  it('after failed creates it stops until the next kick (no retry loop), then fills', async () => {
    const w = await world();
    w.driver.failNext('create', 'engine_unavailable', 100);
    await w.reconciler.run(true);
    await w.settle();
    // One round of maxCreating attempts, then nothing until reconcile kicks again.
    expect(w.driver.count('create')).toBe(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(w.driver.count('create')).toBe(2);
    expect(await w.store.capacity()).toEqual({ count: 0, memoryMb: 0 });
    w.driver.clearFaults();
    await w.reconciler.run();
    await w.settle();
    expect(await byState(w)).toEqual({ warm: 3 });
  });

  it('stops at the host budget without failing', async () => {
    const w = await started({ MAX_CONTAINERS: '2' });
    expect(await byState(w)).toEqual({ warm: 2 });
    expect(w.driver.count('create')).toBe(2);
  });
});
