import { execFileSync } from 'node:child_process';
import { ContainerEventSchema, type ContainerEvent, type CreateContainerReply } from '@berth/contracts';
import { request } from '@berth/service-kit';
import { sleep } from '@berth/service-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clientNats,
  containersOf,
  docker,
  removeAllOf,
  startInfra,
  startInProcess,
  testHostEnv,
  waitFor,
  type Infra,
  type RunningPoolManager,
} from './harness.js';
import { inspectByBerthId, newRequestId, rejection } from './helpers.js';

const OWNER = 'pause-owner';
const MEMORY_MB = 64;
const IDLE_TTL = 4_000;
const decoder = new TextDecoder();

describe('pause and resume: the budget, files, agent, events, restarts and races', () => {
  let infra: Infra;
  let pm: RunningPoolManager;
  let nc: Awaited<ReturnType<typeof clientNats>>;
  const events: ContainerEvent[] = [];
  // Cold creates only (no warm pool), and room for exactly three workspaces' memory.
  const env = testHostEnv({
    POOLS: JSON.stringify([
      { name: 'default', targetSize: 0, minSize: 0, memoryMb: MEMORY_MB, pids: 64 },
      { name: 'sleepy', targetSize: 0, minSize: 0, memoryMb: MEMORY_MB, pids: 64, onIdle: 'pause' },
    ]),
    MAX_MEMORY_MB: String(3 * MEMORY_MB),
    IDLE_TTL_MS: String(IDLE_TTL),
    IDLE_WARNING_MS: '0',
    RECONCILE_INTERVAL_MS: '3600000',
  });

  beforeAll(async () => {
    infra = await startInfra();
    pm = await startInProcess(infra, env);
    nc = await clientNats(infra, env.BERTH_HOST_ID!);
    const sub = nc.subscribe('berth.evt.container.>');
    void (async () => {
      for await (const m of sub) events.push(ContainerEventSchema.parse(JSON.parse(decoder.decode(m.data))));
    })();
  }, 60_000);
  // A failed test leaves nothing that takes the next one's budget.
  afterEach(async () => {
    const { containers } = await request(nc, 'containerList', { owner: OWNER });
    await Promise.all(containers.map((c) => request(nc, 'containerDelete', { id: c.id, owner: OWNER }, { timeoutMs: 20_000 }).catch(() => undefined)));
  });
  afterAll(async () => {
    await nc?.close();
    await pm?.stop();
    await removeAllOf(env.BERTH_HOST_ID!);
    await infra?.dispose();
  });

  const create = (pool = 'default', owner = OWNER) => request(nc, 'containerCreate', { requestId: newRequestId(), owner, pool }, { timeoutMs: 60_000 });
  const pause = (c: CreateContainerReply, owner = OWNER) => request(nc, 'containerPause', { id: c.id, owner }, { timeoutMs: 20_000 });
  const resume = (c: CreateContainerReply, owner = OWNER) => request(nc, 'containerResume', { id: c.id, owner }, { timeoutMs: 20_000 });
  const exec = (c: CreateContainerReply, command: string) =>
    request(nc, 'containerExec', { id: c.id, owner: OWNER, command, timeoutMs: 10_000 }, { timeoutMs: 20_000 });
  const remove = (c: CreateContainerReply) => request(nc, 'containerDelete', { id: c.id, owner: OWNER }, { timeoutMs: 20_000 });
  const state = (c: CreateContainerReply, owner = OWNER) =>
    request(nc, 'containerGet', { id: c.id, owner }).then(
      (v) => v.state,
      (err: { code?: string }) => err.code,
    );
  const frozen = async (c: CreateContainerReply) => (await inspectByBerthId(env.BERTH_HOST_ID!, c.id)).State.Paused;
  const kinds = (c: CreateContainerReply) => events.filter((e) => e.id === c.id).map((e) => `${e.kind}${e.reason ? `:${e.reason}` : ''}`);

  it("a pause releases the workspace's memory from the budget (a create that did not fit then fits); resume brings back its files and agent", async () => {
    const [a, b, x] = await Promise.all([create(), create(), create()]);
    expect((await exec(a, 'echo kept > /workspace/note.txt && echo ok')).stdout).toBe('ok\n');
    expect((await rejection(create())).code).toBe('CAPACITY_EXHAUSTED');

    const paused = await pause(a);
    expect(paused.state).toBe('paused');
    expect(await state(a)).toBe('paused');
    expect(await frozen(a)).toBe(true);
    // Counted (its container, ports and volume stay), but its memory is back in the budget.
    expect(await pm.store.capacity()).toEqual({ count: 3, memoryMb: 2 * MEMORY_MB });
    expect((await request(nc, 'containerList', { owner: OWNER })).containers.map((v) => [v.id, v.state])).toContainEqual([a.id, 'paused']);
    // Pausing again changes nothing.
    expect((await pause(a)).state).toBe('paused');

    const c = await create();
    // No room for a's memory any more: its resume is refused (retryable), it stays paused.
    expect((await rejection(resume(a))).code).toBe('CAPACITY_EXHAUSTED');
    expect(await state(a)).toBe('paused');
    expect(await frozen(a)).toBe(true);

    await remove(c);
    const resumed = await resume(a);
    expect(resumed.state).toBe('claimed');
    expect(resumed.ports).toEqual(a.ports);
    expect(await frozen(a)).toBe(false);
    expect(await pm.store.capacity()).toEqual({ count: 3, memoryMb: 3 * MEMORY_MB });
    expect((await exec(a, 'cat /workspace/note.txt')).stdout).toBe('kept\n');
    await waitFor('the resumed event', () => kinds(a).includes('resumed:api'), 5_000);
    expect(kinds(a).filter((k) => k !== 'created')).toEqual(['claimed', 'paused:api', 'resumed:api']);
    await Promise.all([remove(a), remove(b), remove(x)]);
  }, 120_000);

  it('a command for a paused workspace resumes it (autoResume), or answers CONTAINER_PAUSED when its caller turned that off', async () => {
    const a = await create();
    await pause(a);
    expect((await exec(a, 'echo awake')).stdout).toBe('awake\n');
    expect(await state(a)).toBe('claimed');
    await waitFor('the auto resumed event', () => kinds(a).includes('resumed:auto'), 5_000);

    await request(nc, 'containerKeepalive', { id: a.id, owner: OWNER, autoResume: false });
    await pause(a);
    const refused = await rejection(exec(a, 'echo no'));
    expect(refused.code).toBe('CONTAINER_PAUSED');
    expect(await state(a)).toBe('paused');
    expect(await frozen(a)).toBe(true);
    // A setting can be changed while paused; then commands resume it again.
    await request(nc, 'containerKeepalive', { id: a.id, owner: OWNER, autoResume: true });
    expect((await exec(a, 'echo again')).stdout).toBe('again\n');
    await remove(a);
  }, 60_000);

  it("another owner's workspace cannot be paused, resumed or configured (404 as for every route)", async () => {
    const a = await create();
    expect((await rejection(pause(a, 'intruder'))).code).toBe('CONTAINER_NOT_FOUND');
    expect(await state(a)).toBe('claimed');
    await pause(a);
    expect((await rejection(resume(a, 'intruder'))).code).toBe('CONTAINER_NOT_FOUND');
    expect((await rejection(request(nc, 'containerKeepalive', { id: a.id, owner: 'intruder', onIdle: 'delete' }))).code).toBe('CONTAINER_NOT_FOUND');
    expect((await rejection(request(nc, 'containerExec', { id: a.id, owner: 'intruder', command: 'true', timeoutMs: 5_000 }))).code).toBe(
      'CONTAINER_NOT_FOUND',
    );
    expect(await state(a)).toBe('paused');
    expect(await state(a, 'intruder')).toBe('CONTAINER_NOT_FOUND');
    await remove(a);
  }, 60_000);

  it('racing pauses, resumes and a delete leave a consistent state: the record matches the engine, the budget its records', async () => {
    const a = await create();
    const b = await create();
    // Many at once on one workspace: whatever order they run in, the record and the engine agree.
    await Promise.allSettled([pause(a), resume(a), pause(a), resume(a), pause(a)]);
    expect(await frozen(a)).toBe((await state(a)) === 'paused');
    // And with a delete among them: the workspace is gone entirely, its memory and count released.
    await Promise.allSettled([pause(b), remove(b), resume(b), pause(b)]);
    await waitFor("b's container gone", async () => (await containersOf(env.BERTH_HOST_ID!)).every((c) => c.Labels['berth.id'] !== b.id), 10_000);
    expect(await state(b)).toBe('CONTAINER_NOT_FOUND');
    const aMemory = (await state(a)) === 'paused' ? 0 : MEMORY_MB;
    expect(await pm.store.capacity()).toEqual({ count: 1, memoryMb: aMemory });
    await remove(a);
    expect(await pm.store.capacity()).toEqual({ count: 0, memoryMb: 0 });
  }, 60_000);

  it('a pool-manager restart, even after a Redis loss, keeps a paused workspace paused and counted; its resume reconnects the agent', async () => {
    const a = await create();
    await exec(a, 'echo before > /workspace/f');
    await pause(a);
    await pm.stop();
    pm = await startInProcess(infra, env);
    expect(await state(a)).toBe('paused');
    expect(await frozen(a)).toBe(true);
    expect(await pm.store.capacity()).toEqual({ count: 1, memoryMb: 0 });
    await pm.reconciler.run();
    expect(await state(a)).toBe('paused');
    expect(await pm.store.capacity()).toEqual({ count: 1, memoryMb: 0 });

    // The agent, frozen while the old pool-manager went away, connects to the new one once thawed.
    await resume(a);
    const agents = (pm.pauses as unknown as { d: { agents?: { known(id: string): boolean; waitIdle(id: string, ms: number): Promise<boolean> } } }).d.agents;
    expect(agents?.known(a.id)).toBe(true);
    expect(await agents?.waitIdle(a.id, 10_000)).toBe(true);
    expect((await exec(a, 'cat /workspace/f')).stdout).toBe('before\n');

    // Redis lost: the record is rebuilt from Docker (claim marker) and, the container being frozen, paused again.
    await pause(a);
    await pm.stop();
    execFileSync('redis-cli', ['-u', infra.redis.url, 'FLUSHALL']);
    pm = await startInProcess(infra, env);
    expect(await state(a)).toBe('paused');
    expect(await frozen(a)).toBe(true);
    expect(await pm.store.capacity()).toEqual({ count: 1, memoryMb: 0 });
    await resume(a);
    expect((await exec(a, 'cat /workspace/f')).stdout).toBe('before\n');
    expect(await pm.store.capacity()).toEqual({ count: 1, memoryMb: MEMORY_MB });
    await remove(a);
  }, 90_000);

  it('idle: onIdle "pause" (the pool\'s, or the workspace\'s own) pauses instead of removing; the paused retention removes, with an event ahead', async () => {
    const [kept, own, plain] = await Promise.all([create('sleepy'), create(), create()]);
    await request(nc, 'containerKeepalive', { id: own.id, owner: OWNER, onIdle: 'pause' });
    await sleep(IDLE_TTL + 200);
    // The first check takes the network baseline, a later one decides.
    await waitFor(
      'the idle workspaces dealt with',
      async () => {
        await pm.reconciler.run();
        return (await pm.store.idleCandidates()).length === 0;
      },
      20_000,
      500,
    );
    expect(await state(kept)).toBe('paused');
    expect(await state(own)).toBe('paused');
    expect(await state(plain)).toBe('CONTAINER_NOT_FOUND');
    expect(kinds(kept)).toContain('paused:idle');
    expect(await pm.store.capacity()).toEqual({ count: 2, memoryMb: 0 });

    // Past the retention (PAUSED_RETENTION_MS, 7 days by default): a warning first, the removal at the next check.
    const later = Date.now() + 8 * 24 * 3600_000;
    expect(await pm.retention.run(later)).toEqual({ warned: 2, removed: 0 });
    expect(await state(kept)).toBe('paused');
    expect(await pm.retention.run(later)).toEqual({ warned: 0, removed: 2 });
    expect(await state(kept)).toBe('CONTAINER_NOT_FOUND');
    await waitFor('the retention removal event', () => kinds(kept).includes('removed:paused-retention'), 5_000);
    const k = kinds(kept);
    expect(k.indexOf('retention-warning:paused-retention')).toBeGreaterThan(-1);
    expect(k.indexOf('retention-warning:paused-retention')).toBeLessThan(k.indexOf('removed:paused-retention'));
    expect(events.find((e) => e.id === kept.id && e.kind === 'retention-warning')?.reapAt).toBeDefined();
    expect(await pm.store.capacity()).toEqual({ count: 0, memoryMb: 0 });
    expect((await docker.listContainers({ all: true, filters: { label: [`berth.host=${env.BERTH_HOST_ID!}`] } })).length).toBe(0);
  }, 90_000);
});
