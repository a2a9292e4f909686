import { randomBytes } from 'node:crypto';
import { BerthError } from '@berth/contracts';
import { ServiceProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containersOf, removeAllOf, startInfra, startInProcess, testHostEnv, waitFor, type RunningPoolManager } from './harness.js';
import { newRequestId, startWorld, waitForWarm, type World } from './helpers.js';

// Fencing: a pool-manager that a newer one of the same host superseded (it was thought dead, or was
// started twice) can no longer change anything: every Redis script checks its epoch first.
describe('fencing tokens', () => {
  let w: World;
  let env: Record<string, string>;
  let newer: RunningPoolManager | undefined;

  beforeAll(async () => {
    env = testHostEnv({ POOLS: JSON.stringify([{ name: 'default', targetSize: 2, minSize: 1, maxCreating: 2, memoryMb: 64, pids: 64 }]) });
    w = await startWorld(env);
    await waitForWarm(w.nc, 2);
  });
  afterAll(async () => {
    await newer?.stop();
    await w?.dispose();
  });

  const rejection = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (err: unknown) => err,
    );

  it('a second pool-manager of the same host fences the first out: it cannot claim, create, stop or reconcile; the newer one can', async () => {
    const older = w.pm;
    const claimed = await older.claims.create({ requestId: newRequestId(), owner: 'alice' });
    const olderEpoch = older.store.currentEpoch;

    // The older one holds the reconcile lock, as if killed mid-reconcile: the newer one must not
    // wait out its 60 s TTL.
    expect(await older.store.tryLock('stale-holder', 60_000)).toBe(true);
    expect(await older.store.tryLock('same-epoch', 60_000)).toBe(false);
    newer = await startInProcess(w.infra, env);
    expect(BigInt(newer.store.currentEpoch)).toBeGreaterThan(BigInt(olderEpoch));
    const before = (await containersOf(w.hostId)).map((c) => c.Id).sort();

    const claim = await rejection(older.claims.create({ requestId: newRequestId(), owner: 'alice' }));
    expect(claim).toBeInstanceOf(BerthError);
    expect((claim as BerthError).code).toBe('SERVICE_UNAVAILABLE');
    expect(older.store.fenced).toBe(true);
    // A cold create (other ports) would reserve first: refused before Docker is touched.
    expect(await rejection(older.claims.create({ requestId: newRequestId(), owner: 'alice', ports: [4100] }))).toBeInstanceOf(BerthError);
    // Stopping a live workspace: refused, the container stays.
    await expect(older.lifecycle.stop(claimed.id, 'stale delete')).rejects.toBeInstanceOf(BerthError);
    // Its reconcile cannot take the lock, so it removes nothing.
    await expect(older.reconciler.run()).rejects.toBeInstanceOf(BerthError);
    // Nothing it could reach was removed (the newer one may have added warm containers meanwhile).
    const after = new Set((await containersOf(w.hostId)).map((c) => c.Id));
    for (const id of before) expect(after.has(id), id).toBe(true);
    expect((await newer.store.get(claimed.id))?.state).toBe('claimed');

    // The newer one owns the host and works.
    expect(newer.store.fenced).toBe(false);
    const fresh = await newer.claims.create({ requestId: newRequestId(), owner: 'bob' });
    expect(fresh.id).not.toBe(claimed.id);
    await newer.lifecycle.remove(claimed.id, 'alice');
    // Its reconcile runs (the stale holder's lock was taken over, not waited out).
    expect(await newer.reconciler.run()).toBeDefined();
  }, 60_000);
});

describe('fencing: a superseded pool-manager process exits', () => {
  it('starting a second process with the same host id makes the first leave at its next state change', async () => {
    const infra = await startInfra();
    const hostId = `t-${randomBytes(4).toString('hex')}`;
    const env = {
      ...testHostEnv({ BERTH_HOST_ID: hostId, RECONCILE_INTERVAL_MS: '500', LOG_LEVEL: 'info' }),
      NATS_URL: infra.nats.url,
      REDIS_URL: infra.redis.url,
    };
    const first = new ServiceProcess('pool-manager', env);
    const second = new ServiceProcess('pool-manager', env);
    try {
      first.start();
      await waitFor('first pool-manager started', async () => first.output.includes('host epoch acquired'), 30_000);
      second.start();
      await waitFor('second pool-manager started', async () => second.output.includes('host epoch acquired'), 30_000);
      await waitFor('first pool-manager to leave', async () => !first.running, 15_000);
      expect(first.output).toContain('a newer pool-manager took over this host');
      expect(second.running).toBe(true);
    } finally {
      await first.kill();
      await second.kill();
      await removeAllOf(hostId);
      await infra.dispose();
    }
  }, 90_000);
});
