import { randomBytes } from 'node:crypto';
import { VOLUME_LABELS } from '@berth/contracts';
import { request } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceVolumeName } from '../src/driver/workload-driver.js';
import { seedVolumeName } from '../src/setup/setup-commands.js';
import { NPM_CACHE_TARGET, npmCacheVolumeName, OWNER_VOLUME_TARGET, ownerVolumeName } from '../src/volumes/volume-names.js';
import { docker } from './harness.js';
import { inspectByBerthId, newRequestId, refused, rejection, startWorld, waitForWarm, type World } from './helpers.js';

const ALICE = 'alice';
const BOB = 'bob';
const pools = JSON.stringify([{ name: 'default', targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 }]);

/** Volumes this test made outside berth, removed at the end. */
const foreign: string[] = [];
async function foreignVolume(name: string): Promise<string> {
  await docker.createVolume({ Name: name });
  foreign.push(name);
  return name;
}

describe('named volumes belong to their owner', () => {
  let w: World;
  const create = (owner: string, volumeName: string) =>
    request(w.nc, 'containerCreate', { requestId: newRequestId(), owner, volumeName }, { timeoutMs: 30_000 });
  const exec = (owner: string, id: string, command: string | string[]) => request(w.nc, 'containerExec', { id, owner, command, timeoutMs: 10_000 });
  const remove = (owner: string, id: string) => request(w.nc, 'containerDelete', { id, owner });
  const mountAt = async (id: string, target: string) => (await inspectByBerthId(w.hostId, id)).Mounts.find((m) => m.Destination === target);

  beforeAll(async () => {
    w = await startWorld({ POOLS: pools, MAX_VOLUMES_PER_OWNER: '3' });
    await waitForWarm(w.nc, 1);
  });
  afterAll(async () => {
    await w?.dispose();
    await Promise.all(
      foreign.map((v) =>
        docker
          .getVolume(v)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
  });

  it("two owners naming the same volume get two volumes; neither sees the other's data", async () => {
    const a = await create(ALICE, 'shared-name');
    const b = await create(BOB, 'shared-name');
    expect([a.volumeName, b.volumeName]).toEqual(['shared-name', 'shared-name']);
    const [ma, mb] = [await mountAt(a.id, OWNER_VOLUME_TARGET), await mountAt(b.id, OWNER_VOLUME_TARGET)];
    expect(ma?.Name).toBe(ownerVolumeName(w.hostId, ALICE, 'shared-name'));
    expect(mb?.Name).toBe(ownerVolumeName(w.hostId, BOB, 'shared-name'));
    const labels = (await docker.getVolume(ma!.Name!).inspect()).Labels;
    expect(labels).toMatchObject({ [VOLUME_LABELS.owner]: ALICE, [VOLUME_LABELS.name]: 'shared-name', [VOLUME_LABELS.kind]: 'owner' });

    expect((await exec(ALICE, a.id, `echo alice-secret > ${OWNER_VOLUME_TARGET}/secret`)).exitCode).toBe(0);
    expect((await exec(BOB, b.id, ['cat', `${OWNER_VOLUME_TARGET}/secret`])).exitCode).not.toBe(0);
    await remove(ALICE, a.id);
    await remove(BOB, b.id);
  });

  it("berth's own volumes (another workspace's, the npm cache, a seed) are VOLUME_NOT_ALLOWED before any container is made", async () => {
    const victim = await request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: BOB });
    const names = [
      workspaceVolumeName(victim.id),
      npmCacheVolumeName('berth-npm-cache', w.hostId, BOB),
      'berth-npm-cache',
      seedVolumeName(w.hostId, BOB, 'acme/web'),
      'Berth-anything',
    ];
    for (const volumeName of names) {
      const err = await refused(w, { volumeName }, 'VOLUME_NOT_ALLOWED', ALICE);
      expect(err.retryable).toBe(false);
    }
    await remove(BOB, victim.id);
  });

  it('a Docker volume berth did not make is never mounted: the name gives the owner a volume of its own', async () => {
    const outside = await foreignVolume(`outside-${randomBytes(4).toString('hex')}`);
    const ws = await create(ALICE, outside);
    const mount = await mountAt(ws.id, OWNER_VOLUME_TARGET);
    expect(mount?.Name).toBe(ownerVolumeName(w.hostId, ALICE, outside));
    expect(mount?.Name).not.toBe(outside);
    await remove(ALICE, ws.id);
  });

  it("a volume squatting on an owner volume's engine name without berth's labels is VOLUME_NOT_ALLOWED", async () => {
    await foreignVolume(ownerVolumeName(w.hostId, ALICE, 'squatted'));
    await refused(w, { volumeName: 'squatted' }, 'VOLUME_NOT_ALLOWED', ALICE);
  });

  it("lists an owner's volumes only; a volume in use cannot be deleted (409), an idle one can; another owner cannot see or delete it", async () => {
    const ws = await create(ALICE, 'keep-me');
    const listed = await request(w.nc, 'volumeList', { owner: ALICE });
    expect(listed.limit).toBe(3);
    expect(listed.volumes.map((v) => v.name).sort()).toEqual(expect.arrayContaining(['keep-me', 'shared-name']));
    expect(listed.volumes.find((v) => v.name === 'keep-me')).toMatchObject({ inUse: true });
    expect(listed.volumes.find((v) => v.name === 'shared-name')).toMatchObject({ inUse: false });
    expect((await request(w.nc, 'volumeList', { owner: BOB })).volumes.map((v) => v.name)).toEqual(['shared-name']);

    const inUse = await rejection(request(w.nc, 'volumeDelete', { owner: ALICE, name: 'keep-me' }));
    expect([inUse.code, inUse.retryable]).toEqual(['VOLUME_IN_USE', false]);
    expect((await rejection(request(w.nc, 'volumeDelete', { owner: BOB, name: 'keep-me' }))).code).toBe('VOLUME_NOT_FOUND');
    expect((await exec(ALICE, ws.id, 'echo still-here > /workspace/f')).exitCode).toBe(0);

    await remove(ALICE, ws.id);
    expect(await request(w.nc, 'volumeDelete', { owner: ALICE, name: 'keep-me' })).toEqual({ name: 'keep-me', removed: true });
    expect((await request(w.nc, 'volumeList', { owner: ALICE })).volumes.map((v) => v.name)).not.toContain('keep-me');
    expect((await rejection(request(w.nc, 'volumeDelete', { owner: ALICE, name: 'keep-me' }))).code).toBe('VOLUME_NOT_FOUND');
    // Deleted means gone: the same name starts empty.
    const again = await create(ALICE, 'keep-me');
    expect((await exec(ALICE, again.id, ['cat', '/workspace/f'])).exitCode).not.toBe(0);
    await remove(ALICE, again.id);
  });

  it('an owner keeps at most MAX_VOLUMES_PER_OWNER volumes: a new name beyond it is VOLUME_LIMIT_REACHED, known names still mount', async () => {
    const before = (await request(w.nc, 'volumeList', { owner: ALICE })).count;
    for (let i = before; i < 3; i += 1) await remove(ALICE, (await create(ALICE, `fill-${i}`)).id);
    const err = await refused(w, { volumeName: 'one-too-many' }, 'VOLUME_LIMIT_REACHED', ALICE);
    expect(err.retryable).toBe(false);
    const known = await create(ALICE, 'shared-name');
    expect(known.volumeName).toBe('shared-name');
    await remove(ALICE, known.id);
    // Another owner's count is its own.
    await remove(BOB, (await create(BOB, 'bobs-second')).id);
  });
});

describe('npm caches are per owner', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld({ POOLS: pools });
    await waitForWarm(w.nc, 1);
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("a cold create mounts its owner's cache, writable; another owner's workspace sees none of it; warm ones have none", async () => {
    const cold = { ports: [8080] };
    const a = await request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: ALICE, ...cold }, { timeoutMs: 30_000 });
    const b = await request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: BOB, ...cold }, { timeoutMs: 30_000 });
    const cacheOf = async (id: string) => (await inspectByBerthId(w.hostId, id)).Mounts.find((m) => m.Destination === NPM_CACHE_TARGET)?.Name;
    expect(await cacheOf(a.id)).toBe(npmCacheVolumeName('berth-npm-cache', w.hostId, ALICE));
    expect(await cacheOf(b.id)).toBe(npmCacheVolumeName('berth-npm-cache', w.hostId, BOB));

    const write = await request(w.nc, 'containerExec', {
      id: a.id,
      owner: ALICE,
      command: 'mkdir -p ~/.npm/_logs && echo token=abc > ~/.npm/_logs/debug.log',
      timeoutMs: 10_000,
    });
    expect(write.exitCode).toBe(0);
    const read = await request(w.nc, 'containerExec', { id: b.id, owner: BOB, command: 'cat ~/.npm/_logs/debug.log', timeoutMs: 10_000 });
    expect(read.exitCode).not.toBe(0);

    const warm = await request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: BOB });
    expect(warm.warm).toBe(true);
    expect(await cacheOf(warm.id)).toBeUndefined();
  });
});
