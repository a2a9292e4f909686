import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { CreateContainerReply } from '@berth/contracts';
import { request } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskImages } from '../src/disk/disk-images.js';
import { inspectByBerthId, newRequestId, startWorld, waitForWarm, type World } from './helpers.js';

const OWNER = 'limits-owner';
const POOL = { name: 'default', targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 256, pids: 128, cpus: 1 };
const ASKED = { cpus: 0.5, memoryMb: 96, diskMb: 32 };
const MiB = 1024 * 1024;

/** Loop devices backed by a file under `dir`, as the kernel lists them. */
const loopsUnder = (dir: string) =>
  execFileSync('losetup', ['-l', '-n', '-O', 'BACK-FILE'], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.trim().startsWith(dir));

describe('limits that hold: cpus, memory and disk asked at create, rotated logs', () => {
  let w: World;
  let diskDir: string;
  let limited: CreateContainerReply;
  let usedBefore: number;

  beforeAll(async () => {
    diskDir = mkdtempSync(join(tmpdir(), 'berth-disks-'));
    w = await startWorld({ POOLS: JSON.stringify([POOL]), WORKSPACE_DISK_DIR: diskDir, WORKSPACE_LOG_MAX_SIZE: '16k', WORKSPACE_LOG_MAX_FILES: '2' });
    await waitForWarm(w.nc, 1);
    usedBefore = (await w.pm.store.capacity()).memoryMb;
    limited = await request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER, ...ASKED }, { timeoutMs: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await w?.dispose();
    // Volumes are gone with dispose: now no volume names their loop devices.
    const disks = new DiskImages({ WORKSPACE_DISK_DIR: diskDir });
    for (const id of await disks.list()) await disks.remove(id);
    rmSync(diskDir, { recursive: true, force: true });
  });

  const exec = (id: string, command: string, timeoutMs = 20_000) =>
    request(w.nc, 'containerExec', { id, owner: OWNER, command: ['sh', '-c', command], timeoutMs }, { timeoutMs: timeoutMs + 5_000 });

  it('a create asking for other limits than its pool is a cold create with exactly those, counted in the host budget', async () => {
    expect(limited.warm).toBe(false);
    const info = await inspectByBerthId(w.hostId, limited.id);
    expect(info.HostConfig.NanoCpus).toBe(ASKED.cpus * 1e9);
    expect(info.HostConfig.Memory).toBe(ASKED.memoryMb * MiB);
    expect(info.HostConfig.MemorySwap).toBe(ASKED.memoryMb * MiB);
    // The warm refill after it is counted too; the limited one counts what it asked, not the pool's 256.
    const records = await w.pm.store.all();
    expect(records.find((r) => r.id === limited.id)?.memoryMb).toBe(ASKED.memoryMb);
    const capacity = await w.pm.store.capacity();
    expect(capacity.memoryMb).toBe(records.reduce((sum, r) => sum + r.memoryMb, 0));
    expect(capacity.memoryMb - usedBefore).toBeGreaterThanOrEqual(ASKED.memoryMb);
  });

  it("a create asking for nothing, or for the pool's own limits, is still a warm claim", async () => {
    await waitForWarm(w.nc, 1);
    const warm = await request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER, cpus: POOL.cpus, memoryMb: POOL.memoryMb });
    expect(warm.warm).toBe(true);
    await request(w.nc, 'containerDelete', { id: warm.id, owner: OWNER });
  });

  it('/workspace is a filesystem of diskMb: writing past it is ENOSPC inside, and the host spent only what was reserved', async () => {
    const df = await exec(limited.id, 'stat -c %u /workspace; ls -A /workspace | wc -l; df -k /workspace | tail -1');
    const [uid, entries, line] = df.stdout.trim().split('\n');
    expect(uid).toBe('1000');
    expect(entries).toBe('0');
    const totalKb = Number(line!.trim().split(/\s+/)[1]);
    expect(totalKb * 1024).toBeLessThanOrEqual(ASKED.diskMb * MiB);
    // ext4's journal and inode tables take their part of a small filesystem.
    expect(totalKb * 1024).toBeGreaterThan(ASKED.diskMb * MiB * 0.7);
    const image = join(diskDir, `${limited.id}.img`);
    const hostBytes = () => statSync(image).blocks * 512;
    const before = hostBytes();
    const dd = await exec(limited.id, `dd if=/dev/zero of=/workspace/big bs=1M count=${ASKED.diskMb * 2} 2>&1; echo "exit $?"`, 60_000);
    expect(dd.stdout).toMatch(/No space left on device/);
    expect(dd.stdout).toMatch(/exit 1/);
    // The image had all its blocks from the start (fallocate): filling it took nothing more from the host.
    expect(before).toBeGreaterThanOrEqual(ASKED.diskMb * MiB);
    expect(hostBytes()).toBe(before);
    expect(statSync(image).size).toBe(ASKED.diskMb * MiB);
    await exec(limited.id, 'rm -f /workspace/big');
  }, 90_000);

  it('memory past memoryMb is killed inside (OOM), the workspace stays', async () => {
    // Zeros have no newline: tail keeps all of its input in memory, 4× the limit.
    const r = await exec(limited.id, `head -c ${ASKED.memoryMb * 4}m /dev/zero | tail -n 1 >/dev/null; echo "exit $?"`, 60_000);
    expect(r.stdout).toMatch(/exit 137/);
    expect((await exec(limited.id, 'echo alive')).stdout.trim()).toBe('alive');
  }, 90_000);

  it("cpus caps CPU time: the kernel's CFS quota is half a period, and two busy loops get at most about half a core", async () => {
    const quota = (await exec(limited.id, 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us')).stdout
      .trim()
      .split('\n')
      .map(Number);
    expect(quota[0]! / quota[1]!).toBe(ASKED.cpus);
    const script = [
      'a=$(cat /sys/fs/cgroup/cpuacct/cpuacct.usage); s=$(date +%s%N)',
      'for i in 1 2; do timeout 2 sh -c "while :; do :; done" & done; wait',
      'b=$(cat /sys/fs/cgroup/cpuacct/cpuacct.usage); e=$(date +%s%N)',
      'echo $((b - a)) $((e - s))',
    ].join('; ');
    const [cpuNs, wallNs] = (await exec(limited.id, script)).stdout.trim().split(' ').map(Number);
    const cores = cpuNs! / wallNs!;
    // No lower bound: on a loaded machine the loops may get less than their share.
    expect(cores).toBeGreaterThan(0);
    expect(cores).toBeLessThanOrEqual(ASKED.cpus * 1.15);
  });

  it("a chatty workspace's engine log is rotated: it stays under size × count", async () => {
    const info = await inspectByBerthId(w.hostId, limited.id);
    expect(info.HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '16k', 'max-file': '2' } });
    // Its PID 1's stdout is the container's output: 400 KiB of lines through it.
    await exec(
      limited.id,
      'exec >/proc/1/fd/1; i=0; while [ $i -lt 4000 ]; do echo "chatty dev server line $i padded to about a hundred bytes ................................"; i=$((i+1)); done',
      60_000,
    );
    const logDir = dirname(info.LogPath);
    const files = readdirSync(logDir).filter((f) => f.startsWith(basename(info.LogPath)));
    const total = files.reduce((sum, f) => sum + statSync(join(logDir, f)).size, 0);
    expect(files.length).toBeLessThanOrEqual(2);
    expect(total).toBeLessThanOrEqual(2 * 16 * 1024 + 4096);
  }, 90_000);

  it("reconcile detaches and deletes a disk left by a crash (no record, container or volume), and keeps a live one's", async () => {
    const disks = new DiskImages({ WORKSPACE_DISK_DIR: diskDir });
    const orphan = `ws_${w.hostId}_${'0'.repeat(15)}1`;
    await disks.create(orphan, 16);
    expect(loopsUnder(join(diskDir, `${orphan}.img`))).toHaveLength(1);
    await w.pm.reconciler.run();
    expect(loopsUnder(join(diskDir, `${orphan}.img`))).toHaveLength(0);
    expect(await disks.list()).toEqual([limited.id]);
    expect(loopsUnder(join(diskDir, `${limited.id}.img`))).toHaveLength(1);
  }, 60_000);

  it('delete removes the disk: its loop device detached, its image gone', async () => {
    const image = join(diskDir, `${limited.id}.img`);
    expect(loopsUnder(image)).toHaveLength(1);
    const started = Date.now();
    await request(w.nc, 'containerDelete', { id: limited.id, owner: OWNER }, { timeoutMs: 60_000 });
    console.log(`delete with a disk took ${Date.now() - started} ms`);
    expect(loopsUnder(image)).toHaveLength(0);
    expect(() => statSync(image)).toThrow();
  }, 90_000);
});
