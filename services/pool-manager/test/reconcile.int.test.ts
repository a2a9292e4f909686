import { WORKLOAD_LABELS } from '@berth/contracts';
import { randomBytes } from 'node:crypto';
import type { CreateContainerReply } from '@berth/contracts';
import { Redis, request } from '@berth/service-kit';
import { sleep } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceVolumeName } from '../src/driver/workload-driver.js';
import { containersOf, docker, waitFor, WORKSPACE_IMAGE } from './harness.js';
import { dockerByBerthId, inspectByBerthId, newRequestId, rejection, startWorld, waitForWarm, type World } from './helpers.js';

const OWNER = 'default';
const hostPortOf = (r: CreateContainerReply) => Object.values(r.ports)[0]!;

/** A container carrying berth labels that no pool-manager made. */
async function plantContainer(hostId: string, name?: string): Promise<{ id: string; ref: string }> {
  const id = `ws_${randomBytes(8).toString('hex')}`;
  const c = await docker.createContainer({
    name: name ?? `berth-${id}`,
    Image: WORKSPACE_IMAGE,
    Labels: {
      [WORKLOAD_LABELS.managed]: 'true',
      [WORKLOAD_LABELS.host]: hostId,
      [WORKLOAD_LABELS.id]: id,
      [WORKLOAD_LABELS.pool]: 'default',
      [WORKLOAD_LABELS.ports]: '{}',
      [WORKLOAD_LABELS.memoryMb]: '64',
    },
    HostConfig: { NetworkMode: 'none', Memory: 64 * 1024 * 1024 },
  });
  await c.start();
  return { id, ref: c.id };
}

const exists = (ref: string) =>
  docker
    .getContainer(ref)
    .inspect()
    .then(
      () => true,
      (err: { statusCode?: number }) => {
        if (err.statusCode === 404) return false;
        throw err;
      },
    );

describe('reconcile: Docker is the truth', () => {
  let w: World;
  const foreignHost = `t-foreign-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    w = await startWorld({
      POOLS: JSON.stringify([{ name: 'default', targetSize: 2, minSize: 1, maxCreating: 2, memoryMb: 64, pids: 64 }]),
      CREATE_GRACE_MS: '1000',
      RECONCILE_INTERVAL_MS: '3600000',
    });
    await waitForWarm(w.nc, 2);
  });
  afterAll(async () => {
    await w?.dispose();
    for (const c of await containersOf(foreignHost)) await docker.getContainer(c.Id).remove({ force: true, v: true });
  });

  const create = (owner = OWNER, extra: { ports?: readonly number[] } = {}) =>
    request(w.nc, 'containerCreate', { requestId: newRequestId(), owner, ...(extra.ports && { ports: [...extra.ports] }) }, { timeoutMs: 30_000 });

  it("removes an orphan container carrying this host's labels, and leaves another host's alone", async () => {
    const orphan = await plantContainer(w.hostId);
    const foreign = await plantContainer(foreignHost);
    const report = await w.pm.reconciler.run();
    expect(report?.removedOrphans).toBeGreaterThanOrEqual(1);
    expect(await exists(orphan.ref)).toBe(false);
    expect(await exists(foreign.ref)).toBe(true);
    expect(await w.pm.store.get(orphan.id)).toBeUndefined();
    // The pool's own containers survived.
    expect((await waitForWarm(w.nc, 2)).warm).toBe(2);
    expect(await containersOf(w.hostId)).toHaveLength(2);
  });

  it("releases the record and ports of a claimed container removed behind berth's back", async () => {
    const ws = await create();
    const port = hostPortOf(ws);
    await waitForWarm(w.nc, 2);
    const info = await inspectByBerthId(w.hostId, ws.id);
    await docker.getContainer(info.Id).remove({ force: true });
    // Past the create grace, so reconcile may treat the record as stale.
    await waitFor('record past grace', async () => Date.now() - ((await w.pm.store.get(ws.id))?.createdAt ?? 0) > 1_100, 5_000);
    const capacity = await w.pm.store.capacity();

    // Removed without -v: its workspace volume is left behind until reconcile finds it.
    expect((await docker.getVolume(workspaceVolumeName(ws.id)).inspect()).Labels[WORKLOAD_LABELS.id]).toBe(ws.id);
    const report = await w.pm.reconciler.run();
    expect(report?.releasedRecords).toBe(1);
    expect(
      await docker
        .getVolume(workspaceVolumeName(ws.id))
        .inspect()
        .then(
          () => 'present',
          () => 'gone',
        ),
    ).toBe('gone');
    expect(await w.pm.store.get(ws.id)).toBeUndefined();
    expect(await w.pm.store.ports()).not.toHaveProperty(String(port));
    expect(await w.pm.store.capacity()).toEqual({ count: capacity.count - 1, memoryMb: capacity.memoryMb - 64 });
    expect((await rejection(request(w.nc, 'containerGet', { id: ws.id, owner: OWNER }))).code).toBe('CONTAINER_NOT_FOUND');
    expect((await request(w.nc, 'containerList', { owner: OWNER })).containers.map((c) => c.id)).not.toContain(ws.id);
  });

  it('removes a workspace volume of this host that has neither container nor record', async () => {
    const id = `ws_${randomBytes(8).toString('hex')}`;
    const labels = { [WORKLOAD_LABELS.managed]: 'true', [WORKLOAD_LABELS.host]: w.hostId, [WORKLOAD_LABELS.id]: id };
    await docker.createVolume({ Name: workspaceVolumeName(id), Labels: labels });
    const foreign = `ws_${randomBytes(8).toString('hex')}`;
    await docker.createVolume({
      Name: workspaceVolumeName(foreign),
      Labels: { ...labels, [WORKLOAD_LABELS.host]: 'another-host', [WORKLOAD_LABELS.id]: foreign },
    });
    try {
      const report = await w.pm.reconciler.run();
      expect(report?.removedVolumes).toBe(1);
      expect(
        await docker
          .getVolume(workspaceVolumeName(id))
          .inspect()
          .then(
            () => 'present',
            () => 'gone',
          ),
      ).toBe('gone');
      expect(
        await docker
          .getVolume(workspaceVolumeName(foreign))
          .inspect()
          .then(
            () => 'present',
            () => 'gone',
          ),
      ).toBe('present');
      // Live workspaces keep theirs.
      for (const r of await w.pm.store.all()) {
        expect(
          await docker
            .getVolume(workspaceVolumeName(r.id))
            .inspect()
            .then(
              () => 'present',
              () => 'gone',
            ),
          r.id,
        ).toBe('present');
      }
    } finally {
      await docker
        .getVolume(workspaceVolumeName(foreign))
        .remove()
        .catch(() => undefined);
    }
  });

  it('removes a warm container that stopped running and refills the pool', async () => {
    await waitForWarm(w.nc, 2);
    const dead = (await w.pm.store.all()).find((r) => r.state === 'warm')!;
    await docker.getContainer(dead.ref).kill();
    await waitFor('container to stop', async () => !(await docker.getContainer(dead.ref).inspect()).State.Running, 10_000);

    const report = await w.pm.reconciler.run();
    expect(report?.removedOrphans).toBe(1);
    expect(await exists(dead.ref)).toBe(false);
    expect(await w.pm.store.get(dead.id)).toBeUndefined();
    await waitForWarm(w.nc, 2);
    // The dead container can never be claimed.
    const claimed = await create();
    expect(claimed.id).not.toBe(dead.id);
    await request(w.nc, 'containerDelete', { id: claimed.id, owner: OWNER });
  });

  it('after Redis loses everything, restores the claimed containers as claimed with their owners, removes the unmarked warm ones and refills', async () => {
    // Two warm claims by different owners, and a cold create (other ports: not from the pool) for a third.
    const claims = [];
    for (const [owner, extra] of [
      ['alice', {}],
      ['bob', {}],
      ['carol', { ports: [4100] }],
    ] as const) {
      await waitForWarm(w.nc, 2);
      claims.push(await create(owner, extra));
    }
    const ownerOf = new Map([
      [claims[0]!.id, 'alice'],
      [claims[1]!.id, 'bob'],
      [claims[2]!.id, 'carol'],
    ]);
    expect(claims.map((c) => c.warm)).toEqual([true, true, false]);
    await waitForWarm(w.nc, 2);
    // Engine-side claim markers (carrying the owner) are written just after the claim.
    for (const c of claims) await waitFor(`claim marker of ${c.id}`, async () => (await inspectByBerthId(w.hostId, c.id)).Name.endsWith('-claimed'), 10_000);
    expect((await inspectByBerthId(w.hostId, claims[2]!.id)).Config.Labels[WORKLOAD_LABELS.owner]).toBe('carol');
    const warmBefore = (await w.pm.store.all()).filter((r) => r.state === 'warm');
    expect(warmBefore).toHaveLength(2);

    const redis = new Redis(w.infra.redis.url);
    try {
      await redis.flushall();
    } finally {
      redis.disconnect();
    }
    expect(await w.pm.store.all()).toHaveLength(0);

    const report = await w.pm.reconciler.run();
    expect(report).toMatchObject({ restoredClaims: 3, removedOrphans: 2 });
    for (const r of warmBefore) expect(await exists(r.ref)).toBe(false);

    for (const c of claims) {
      const owner = ownerOf.get(c.id)!;
      const got = await request(w.nc, 'containerGet', { id: c.id, owner });
      expect(got).toMatchObject({ id: c.id, state: 'claimed', ports: c.ports });
      expect((await inspectByBerthId(w.hostId, c.id)).State.Running).toBe(true);
      // Still invisible to everyone else, including the default owner.
      for (const other of ['alice', 'bob', 'carol', OWNER].filter((o) => o !== owner)) {
        expect((await rejection(request(w.nc, 'containerGet', { id: c.id, owner: other }))).code).toBe('CONTAINER_NOT_FOUND');
      }
      expect((await request(w.nc, 'containerList', { owner })).containers.map((x) => x.id)).toEqual([c.id]);
    }
    expect((await request(w.nc, 'containerList', { owner: OWNER })).containers).toEqual([]);

    const pool = await waitForWarm(w.nc, 2);
    expect(pool.claimed).toBe(3);
    // The restored claims hold their ports again: new containers never get them.
    const hash = await w.pm.store.ports();
    for (const c of claims) expect(hash[String(hostPortOf(c))]).toBe(c.id);
    expect(await w.pm.store.capacity()).toEqual({ count: 5, memoryMb: 5 * 64 });

    // Warm claims hand out only the new warm containers, never a restored claim.
    const restored = new Set(claims.map((c) => c.id));
    const more = [await create(), await create(), await create()];
    for (const m of more) {
      expect(restored.has(m.id)).toBe(false);
      expect(claims.map(hostPortOf)).not.toContain(hostPortOf(m));
    }
    for (const c of claims) expect(await dockerByBerthId(w.hostId, c.id)).toHaveLength(1);
    // They are still usable by their owners.
    const exec = await request(w.nc, 'containerExec', { id: claims[0]!.id, owner: 'alice', command: ['true'], timeoutMs: 10_000 });
    expect(exec.exitCode).toBe(0);
  });

  it('restores a claim marker from before owners were recorded to the default owner', async () => {
    const { id, ref } = await plantContainer(w.hostId, `berth-ws_${randomBytes(8).toString('hex')}-claimed`);
    const report = await w.pm.reconciler.run();
    expect(report?.restoredClaims).toBe(1);
    expect(await request(w.nc, 'containerGet', { id, owner: OWNER })).toMatchObject({ id, state: 'claimed' });
    await request(w.nc, 'containerDelete', { id, owner: OWNER });
    expect(await exists(ref)).toBe(false);
  });

  it('restores a clear-text claim marker of an older berth with its owner, then renames it to one that names neither', async () => {
    const ref0 = (await plantContainer(w.hostId, 'berth-placeholder-' + randomBytes(4).toString('hex'))).ref;
    const id = String((await docker.getContainer(ref0).inspect()).Config.Labels[WORKLOAD_LABELS.id]);
    await docker.getContainer(ref0).rename({ name: `berth-${id}-o${Buffer.from('alice').toString('hex')}-claimed` });
    expect((await w.pm.reconciler.run())?.restoredClaims).toBe(1);
    expect(await request(w.nc, 'containerGet', { id, owner: 'alice' })).toMatchObject({ id, state: 'claimed' });
    await w.pm.reconciler.run();
    const name = (await docker.getContainer(ref0).inspect()).Name;
    expect(name).toMatch(/-claimed$/);
    for (const secret of [id, id.slice(3), 'alice', Buffer.from('alice').toString('hex')]) expect(name).not.toContain(secret);
    // And it still reads back: Redis lost again, the sealed marker restores the same owner.
    const redis = new Redis(w.infra.redis.url);
    await redis.flushall().finally(() => redis.disconnect());
    expect((await w.pm.reconciler.run())?.restoredClaims).toBeGreaterThanOrEqual(1);
    expect(await request(w.nc, 'containerGet', { id, owner: 'alice' })).toMatchObject({ id, state: 'claimed' });
    await request(w.nc, 'containerDelete', { id, owner: 'alice' });
  });
});

describe('reconcile: idle reaping (IDLE_TTL_MS=8000)', () => {
  let w: World;
  // Long enough that the exec and the first check (engine stats: seconds on a loaded host) end
  // well before the touched one's deadline, so only the untouched one can be due at the second.
  const TTL = 8_000;

  beforeAll(async () => {
    w = await startWorld({
      POOLS: JSON.stringify([{ name: 'default', targetSize: 2, minSize: 1, maxCreating: 2, memoryMb: 64, pids: 64 }]),
      IDLE_TTL_MS: String(TTL),
      RECONCILE_INTERVAL_MS: '3600000',
    });
    await waitForWarm(w.nc, 2);
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it('removes a claimed container nobody touched within the TTL, keeps one that exec touched', async () => {
    const idle = await request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER });
    const busy = await request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER });
    const t0 = Date.now();
    const idleRef = (await inspectByBerthId(w.hostId, idle.id)).Id;

    await sleep(t0 + TTL / 2 - Date.now());
    const touch = await request(w.nc, 'containerExec', { id: busy.id, owner: OWNER, command: ['true'], timeoutMs: 5_000 });
    expect(touch.exitCode).toBe(0);
    // The first check near a deadline only takes a network-counter baseline (docs/idle.md).
    await w.pm.reconciler.run();
    await sleep(t0 + TTL + 400 - Date.now());

    const report = await w.pm.reconciler.run();
    expect(report?.reaped).toBe(1);
    expect(await exists(idleRef)).toBe(false);
    expect(await w.pm.store.ports()).not.toHaveProperty(String(hostPortOf(idle)));
    expect((await rejection(request(w.nc, 'containerGet', { id: idle.id, owner: OWNER }))).code).toBe('CONTAINER_NOT_FOUND');

    const kept = await request(w.nc, 'containerGet', { id: busy.id, owner: OWNER });
    expect(kept.state).toBe('claimed');
    expect(Date.parse(kept.lastActiveAt!)).toBeGreaterThanOrEqual(t0 + TTL / 2);
    expect((await inspectByBerthId(w.hostId, busy.id)).State.Running).toBe(true);
    // Warm containers are never reaped, however long they wait.
    expect((await waitForWarm(w.nc, 2)).claimed).toBe(1);
  });
});
