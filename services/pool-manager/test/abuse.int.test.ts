import { readFile } from 'node:fs/promises';
import { BerthError, type ExecResult } from '@berth/contracts';
import { request } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, waitFor } from './harness.js';
import { dockerByBerthId, newRequestId, startWorld, waitForWarm, type World } from './helpers.js';

// A workspace that misbehaves is held by its own limits: the abuser suffers, its neighbour and
// pool-manager do not. Small limits so each attack hits them within seconds.
const OWNER = 'abuse-owner';
const POOL = { name: 'default', targetSize: 2, minSize: 1, maxCreating: 2, memoryMb: 64, pids: 64, cpus: 0.5 };
const TMPFS_MB = 16;
/** How long a neighbour's exec may take while another workspace is under attack. */
const NEIGHBOUR_BOUND_MS = 5_000;

let world: World;
let neighbour: string;

const claim = async () => (await request(world.nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER })).id;
const exec = (id: string, command: string | string[], timeoutMs = 10_000): Promise<ExecResult> =>
  request(world.nc, 'containerExec', { id, owner: OWNER, command, timeoutMs });
const remove = (id: string) => request(world.nc, 'containerDelete', { id, owner: OWNER }).catch(() => undefined);

async function engineRef(id: string): Promise<string> {
  const [match] = await dockerByBerthId(world.hostId, id);
  if (!match) throw new Error(`no container for ${id}`);
  return match.Id;
}

/** Docker's one-shot stats: pids in use and CPU time consumed (ns), read from the host side. */
async function stats(ref: string): Promise<{ pids: number; pidsLimit: number; cpuNs: number; throttledPeriods: number; memBytes: number }> {
  const s = await docker.getContainer(ref).stats({ stream: false, 'one-shot': true } as { stream: false });
  return {
    pids: s.pids_stats?.current ?? 0,
    pidsLimit: s.pids_stats?.limit ?? 0,
    cpuNs: s.cpu_stats.cpu_usage.total_usage,
    throttledPeriods: s.cpu_stats.throttling_data?.throttled_periods ?? 0,
    memBytes: s.memory_stats.usage ?? 0,
  };
}

async function running(id: string): Promise<boolean> {
  return (await docker.getContainer(await engineRef(id)).inspect()).State.Running;
}

/** The neighbour still runs a command, and pool-manager still answers, within the bound. */
async function expectNeighbourFine(): Promise<void> {
  const started = Date.now();
  const res = await exec(neighbour, ['echo', 'ok'], NEIGHBOUR_BOUND_MS);
  expect(res).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
  const { pools } = await request(world.nc, 'poolList', {}, { timeoutMs: NEIGHBOUR_BOUND_MS });
  expect(pools.map((p) => p.name)).toContain('default');
  expect(Date.now() - started).toBeLessThan(NEIGHBOUR_BOUND_MS);
}

/** Runs `attack` against a freshly claimed workspace and removes it afterwards, pass or fail. */
async function withVictim(attack: (id: string) => Promise<void>): Promise<void> {
  const id = await claim();
  try {
    await attack(id);
  } finally {
    await remove(id);
  }
}

beforeAll(async () => {
  world = await startWorld({ POOLS: JSON.stringify([POOL]), WORKSPACE_TMPFS_MB: String(TMPFS_MB) });
  await waitForWarm(world.nc, POOL.targetSize);
  neighbour = await claim();
});

afterAll(async () => {
  await world?.dispose();
});

describe('a workspace that abuses its resources is contained', () => {
  it('a fork bomb stops at the pids limit; the container survives and its neighbour keeps working', () =>
    withVictim(async (id) => {
      const ref = await engineRef(id);
      // Detached from the exec's streams so the exec returns while the bomb keeps forking.
      const launched = await exec(id, '(b(){ b|b& }; b) >/dev/null 2>&1 </dev/null & exit 0', 5_000);
      expect(launched.exitCode).toBe(0);

      let peak = 0;
      // The kernel counts every fork it refused at the limit (cgroup v1 pids.events); sampled process
      // counts alone can miss the peak of a bomb that keeps dying and respawning.
      const refusedForks = async () => Number(/max (\d+)/.exec(await readFile(`/sys/fs/cgroup/pids/docker/${ref}/pids.events`, 'utf8'))?.[1] ?? 0);
      const start = Date.now();
      while (Date.now() - start < 3_000 || ((await refusedForks()) === 0 && Date.now() - start < 15_000)) {
        const s = await stats(ref);
        expect(s.pidsLimit).toBe(POOL.pids);
        peak = Math.max(peak, s.pids);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await refusedForks(), 'forks refused at the pids limit').toBeGreaterThan(0);
      expect(peak, 'the bomb never exceeded the limit').toBeLessThanOrEqual(POOL.pids);
      expect(await running(id)).toBe(true);
      await expectNeighbourFine();

      // An exec into the bombed workspace gets an answer (it may fail to fork), not a hang.
      const started = Date.now();
      const answer = await exec(id, ['true'], 3_000).then(
        (r) => r.exitCode,
        (e: unknown) => (e instanceof BerthError ? e.code : String(e)),
      );
      expect(answer).toBeDefined();
      expect(Date.now() - started).toBeLessThan(3_000 + NEIGHBOUR_BOUND_MS);
    }));

  it('a memory hog is OOM-killed alone: its sibling process and the container live on', () =>
    withVictim(async (id) => {
      const sibling = await exec(id, 'sleep 60 >/dev/null 2>&1 </dev/null & echo $!');
      const pid = sibling.stdout.trim();
      expect(pid).toMatch(/^\d+$/);

      // tail holds a line with no newline in memory: 300 MB against a 64 MB limit.
      const hog = await exec(id, 'head -c 300m /dev/zero | tail >/dev/null', 20_000);
      expect(hog.exitCode, 'killed by SIGKILL').toBe(137);
      expect(hog.timedOut).toBe(false);

      expect(await running(id)).toBe(true);
      expect(await exec(id, ['kill', '-0', pid]), 'the sibling survived').toMatchObject({ exitCode: 0 });
      expect((await stats(await engineRef(id))).memBytes).toBeLessThanOrEqual(POOL.memoryMb * 1024 * 1024);
      await expectNeighbourFine();
    }));

  it('filling /tmp stops at the tmpfs size with ENOSPC, and / is read-only', () =>
    withVictim(async (id) => {
      const fill = await exec(id, `dd if=/dev/zero of=/tmp/fill bs=1M count=${TMPFS_MB * 4} 2>&1; echo "rc=$?"; du -m /tmp/fill`);
      expect(fill.stdout).toMatch(/No space left on device/);
      expect(fill.stdout).toMatch(/rc=1/);
      expect(Number(/^(\d+)\s+\/tmp\/fill$/m.exec(fill.stdout)?.[1])).toBeLessThanOrEqual(TMPFS_MB);

      for (const path of ['/fill', '/usr/fill', '/etc/fill', '/var/fill']) {
        const root = await exec(id, `dd if=/dev/zero of=${path} bs=1M count=1 2>&1`);
        expect(root.exitCode, path).not.toBe(0);
        expect(root.stdout, path).toMatch(/Read-only file system/);
      }
      expect(await exec(id, 'rm /tmp/fill && echo freed')).toMatchObject({ exitCode: 0, stdout: 'freed\n' });
      await expectNeighbourFine();
    }));

  it("a CPU spinner is held to the pool's cpus (docker stats over an interval)", () =>
    withVictim(async (id) => {
      const ref = await engineRef(id);
      // Two spinners, so on two cores an unlimited container would use up to 2 CPUs; each dies by itself.
      await exec(id, 'for i in 1 2; do timeout 10 sh -c "while :; do :; done" >/dev/null 2>&1 </dev/null & done; exit 0');
      await waitFor('the spinners to run', async () => (await stats(ref)).pids >= 3, 5_000);
      await new Promise((r) => setTimeout(r, 500));

      const a = await stats(ref);
      const t0 = process.hrtime.bigint();
      await new Promise((r) => setTimeout(r, 3_000));
      const b = await stats(ref);
      const wallNs = Number(process.hrtime.bigint() - t0);
      const cpus = (b.cpuNs - a.cpuNs) / wallNs;
      console.log(`[abuse] spinner used ${cpus.toFixed(3)} CPUs over ${(wallNs / 1e9).toFixed(2)} s (limit ${POOL.cpus})`);
      expect(cpus).toBeLessThanOrEqual(POOL.cpus * 1.1);
      // That the quota held them back, not a busy host: the kernel throttled the container. (How
      // much they got depends on what else the host runs, so it proves nothing about the limit.)
      expect(b.throttledPeriods - a.throttledPeriods, 'periods the CFS quota throttled').toBeGreaterThan(0);
      await expectNeighbourFine();
    }));
});
