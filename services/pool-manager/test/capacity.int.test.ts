import { WORKLOAD_LABELS } from '@berth/contracts';
import { randomBytes } from 'node:crypto';
import type { BerthError } from '@berth/contracts';
import { request } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_VOLUME_TARGET, ownerVolumeName } from '../src/volumes/volume-names.js';
import { containersOf, docker, waitFor } from './harness.js';
import { CREATE_TIMEOUT_MS, create, inspectByBerthId, newRequestId, refused, startWorld, waitForWarm, type World } from './helpers.js';
import { nodeImage, portRange } from '@berth/service-kit/testing';

const OWNER = 'capacity-owner';
const pools = (p: Record<string, unknown>) => JSON.stringify([{ name: 'default', minSize: 1, maxCreating: 2, memoryMb: 64, pids: 64, ...p }]);
/** Ports other than the pool's send a create down the cold path. */
const COLD = { ports: [8080] };

describe('container budget (MAX_CONTAINERS=4, targetSize 2)', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld({ MAX_CONTAINERS: '4', POOLS: pools({ targetSize: 2 }) });
    await waitForWarm(w.nc, 2);
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it('creates up to the budget, then fails fast with a retryable CAPACITY_EXHAUSTED and creates nothing', async () => {
    const a = await create(w, OWNER, COLD);
    const b = await create(w, OWNER, COLD);
    expect([a.warm, b.warm]).toEqual([false, false]);
    expect(await containersOf(w.hostId)).toHaveLength(4);
    expect(await w.pm.store.capacity()).toEqual({ count: 4, memoryMb: 4 * 64 });

    const err = await refused(w, COLD, 'CAPACITY_EXHAUSTED', OWNER);
    expect(err.retryable).toBe(true);
    expect(err.retryAfterSeconds).toBeGreaterThan(0);
    expect(await containersOf(w.hostId)).toHaveLength(4);
  });

  it('warm containers can still be claimed at the budget; once they are gone the pool cannot refill and creates are refused', async () => {
    const claims = [];
    for (let i = 0; i < 2; i += 1) claims.push(await create(w, OWNER));
    expect(claims.map((c) => c.warm)).toEqual([true, true]);
    // The filler is refused by the budget too: no container appears.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await containersOf(w.hostId)).toHaveLength(4);
    expect((await waitForWarm(w.nc, 0)).claimed).toBe(4);

    const err = await refused(w, {}, 'CAPACITY_EXHAUSTED', OWNER);
    expect(err.retryable).toBe(true);
    expect(err.retryAfterSeconds).toBeGreaterThan(0);
    expect(await containersOf(w.hostId)).toHaveLength(4);
  });

  it('a delete makes room again: the retried create succeeds', async () => {
    const [victim] = (await request(w.nc, 'containerList', { owner: OWNER })).containers;
    await request(w.nc, 'containerDelete', { id: victim!.id, owner: OWNER });
    // The refill may take the freed slot first; then the claim gets its container once it is warm.
    // Retried as a caller would: same requestId, until it succeeds or fails with anything else.
    const requestId = newRequestId();
    const retried = await waitFor(
      'the retried create to succeed',
      () =>
        request(w.nc, 'containerCreate', { requestId, owner: OWNER }, { timeoutMs: CREATE_TIMEOUT_MS }).catch((err: unknown) => {
          if ((err as BerthError).code !== 'CAPACITY_EXHAUSTED') throw err;
          return undefined;
        }),
      15_000,
    );
    expect(retried.state).toBe('claimed');
    expect((await w.pm.store.capacity()).count).toBeLessThanOrEqual(4);
    expect((await containersOf(w.hostId)).length).toBeLessThanOrEqual(4);
  });
});

describe('memory budget (MAX_MEMORY_MB=200, 64 MB per container)', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld({ MAX_MEMORY_MB: '200', POOLS: pools({ targetSize: 1 }) });
    await waitForWarm(w.nc, 1);
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it('creates while the memory fits (3 × 64 ≤ 200), then refuses the fourth with CAPACITY_EXHAUSTED', async () => {
    await create(w, OWNER, COLD);
    await create(w, OWNER, COLD);
    expect(await w.pm.store.capacity()).toEqual({ count: 3, memoryMb: 192 });

    const err = await refused(w, COLD, 'CAPACITY_EXHAUSTED', OWNER);
    expect(err.retryable).toBe(true);
    expect(err.retryAfterSeconds).toBeGreaterThan(0);
    expect(await containersOf(w.hostId)).toHaveLength(3);
    const status = await request(w.nc, 'hostStatus', {});
    expect(status.capacity).toEqual({ maxContainers: w.pm.config.MAX_CONTAINERS, maxMemoryMb: 200, usedMemoryMb: 192 });
  });
});

describe('PORTS_EXHAUSTED (a three-port range)', () => {
  let w: World;

  beforeAll(async () => {
    const { lo } = portRange();
    w = await startWorld({ PORT_RANGE: `${lo}-${lo + 2}`, POOLS: pools({ targetSize: 1 }) });
    await waitForWarm(w.nc, 1);
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it('a create needing more ports than are free is refused and its partial allocation rolled back', async () => {
    const err = await refused(w, { ports: [3000, 3001, 3002] }, 'PORTS_EXHAUSTED', OWNER);
    expect(err.retryable).toBe(true);
    expect(err.retryAfterSeconds).toBeGreaterThan(0);
    expect(Object.keys(await w.pm.store.ports())).toHaveLength(1);
    // The two free ports are still free: a two-port create fits exactly.
    const two = await create(w, OWNER, { ports: [3000, 3001] });
    expect(Object.keys(two.ports)).toEqual(['3000', '3001']);
  });

  it('once every port of the range is taken, creates are refused with PORTS_EXHAUSTED', async () => {
    expect(Object.keys(await w.pm.store.ports())).toHaveLength(3);
    await refused(w, COLD, 'PORTS_EXHAUSTED', OWNER);
    // The warm container is still claimable: it has its port already.
    const warm = await create(w, OWNER);
    expect(warm.warm).toBe(true);
    await refused(w, {}, 'PORTS_EXHAUSTED', OWNER);
    const [lo, hi] = w.pm.config.PORT_RANGE;
    for (const port of Object.keys(await w.pm.store.ports()).map(Number)) {
      expect(port).toBeGreaterThanOrEqual(lo);
      expect(port).toBeLessThanOrEqual(hi);
    }
  });
});

describe('create refusals and options', () => {
  let w: World;
  const volume = `cap-test-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    w = await startWorld({ POOLS: pools({ targetSize: 1 }) });
    await waitForWarm(w.nc, 1);
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it('an unknown pool is POOL_NOT_FOUND', async () => {
    const err = await refused(w, { pool: 'no-such-pool' }, 'POOL_NOT_FOUND', OWNER);
    expect(err.retryable).toBe(false);
  });

  it('an image outside ALLOWED_IMAGES is IMAGE_NOT_ALLOWED', async () => {
    for (const image of ['alpine:latest', 'berthx/workspace:latest', 'docker.io/berth/workspace:latest']) {
      const err = await refused(w, { image }, 'IMAGE_NOT_ALLOWED', OWNER);
      expect(err.retryable).toBe(false);
    }
  });

  it('images on the host without the workspace label (node, redis) are IMAGE_NOT_ALLOWED with the default ALLOWED_IMAGES', async () => {
    for (const image of [nodeImage(), 'berth/redis:7', 'berth/busybox:latest']) {
      const err = await refused(w, { image }, 'IMAGE_NOT_ALLOWED', OWNER);
      expect(err.retryable).toBe(false);
    }
  });

  it('an allowed image that is not on the host is IMAGE_NOT_FOUND', async () => {
    const err = await refused(w, { image: 'berth/no-such-image:latest' }, 'IMAGE_NOT_FOUND', OWNER);
    expect(err.retryable).toBe(false);
  });

  it('a name already used by the same owner is NAME_CONFLICT, on the warm and the cold path; other owners may use it', async () => {
    const first = await create(w, OWNER, { name: 'alpha' });
    expect(first.name).toBe('alpha');
    expect((await refused(w, { name: 'alpha' }, 'NAME_CONFLICT', OWNER)).retryable).toBe(false);
    await refused(w, { name: 'alpha', ...COLD }, 'NAME_CONFLICT', OWNER);

    const other = await create(w, 'another-owner', { name: 'alpha', ...COLD });
    expect(other.name).toBe('alpha');

    // Deleting frees the name.
    await request(w.nc, 'containerDelete', { id: first.id, owner: OWNER });
    const again = await create(w, OWNER, { name: 'alpha', ...COLD });
    expect(again.name).toBe('alpha');
    await request(w.nc, 'containerDelete', { id: again.id, owner: OWNER });
    await request(w.nc, 'containerDelete', { id: other.id, owner: 'another-owner' });
  });

  it("volumeName mounts the owner's volume of that name at the checkout's node_modules (cold path), and it outlives the container", async () => {
    await waitForWarm(w.nc, 1);
    const engineName = ownerVolumeName(w.hostId, OWNER, volume);
    const ws = await create(w, OWNER, { volumeName: volume });
    expect(ws.warm).toBe(false);
    expect(ws.volumeName).toBe(volume);
    expect((await waitForWarm(w.nc, 1)).warm).toBe(1); // the warm container was not used

    const info = await inspectByBerthId(w.hostId, ws.id);
    const mount = info.Mounts.find((m) => m.Destination === OWNER_VOLUME_TARGET);
    expect(mount).toMatchObject({ Type: 'volume', Name: engineName });
    // Volumes only, besides the agent's socket directory (see hardening.int.test.ts).
    expect(info.Mounts.every((m) => m.Type === 'volume' || m.Destination === '/run/berth')).toBe(true);
    expect(info.Config.Labels[WORKLOAD_LABELS.volume]).toBe(volume);
    expect((await docker.getVolume(engineName).inspect()).Name).toBe(engineName);

    const write = await request(w.nc, 'containerExec', { id: ws.id, owner: OWNER, command: `echo kept > ${OWNER_VOLUME_TARGET}/marker`, timeoutMs: 10_000 });
    expect(write.exitCode).toBe(0);
    await request(w.nc, 'containerDelete', { id: ws.id, owner: OWNER });
    // Removing the container (with its anonymous volumes) keeps the named one and its data.
    expect((await docker.getVolume(engineName).inspect()).Name).toBe(engineName);

    const next = await create(w, OWNER, { volumeName: volume });
    const read = await request(w.nc, 'containerExec', { id: next.id, owner: OWNER, command: ['cat', `${OWNER_VOLUME_TARGET}/marker`], timeoutMs: 10_000 });
    expect(read).toMatchObject({ exitCode: 0, stdout: 'kept\n' });
    await request(w.nc, 'containerDelete', { id: next.id, owner: OWNER });
  });
});
