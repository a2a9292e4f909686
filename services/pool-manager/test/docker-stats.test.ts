import { describe, expect, it } from 'vitest';
import { usageFromDockerStats } from '../src/driver/docker-stats.js';

describe('usageFromDockerStats', () => {
  it('computes CPU % as docker stats does: container delta / system delta × online CPUs', () => {
    const u = usageFromDockerStats({
      read: '2026-11-23T14:00:01.000000000Z',
      cpu_stats: { cpu_usage: { total_usage: 1_500_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 18_000_000_000 },
      memory_stats: { usage: 80_000_000, limit: 268_435_456, stats: { total_inactive_file: 10_000_000 } },
      pids_stats: { current: 5 },
      networks: { eth0: { rx_bytes: 100, tx_bytes: 40 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
    });
    // 0.5 s of CPU over 2 s of both CPUs' time, ×2 CPUs = half a core.
    expect(u).toEqual({
      atMs: Date.parse('2026-11-23T14:00:01Z'),
      cpuPercent: 50,
      memoryBytes: 70_000_000,
      memoryLimitBytes: 268_435_456,
      pids: 5,
      netRxBytes: 101,
      netTxBytes: 42,
    });
  });

  it('uses cgroup v2 inactive_file and the per-CPU count when online_cpus is missing', () => {
    const u = usageFromDockerStats(
      {
        cpu_stats: { cpu_usage: { total_usage: 300, percpu_usage: [1, 1, 1, 1] }, system_cpu_usage: 1000 },
        precpu_stats: { cpu_usage: { total_usage: 100 }, system_cpu_usage: 600 },
        memory_stats: { usage: 5000, limit: 9000, stats: { inactive_file: 1000 } },
      },
      42,
    );
    expect(u).toMatchObject({ atMs: 42, cpuPercent: 200, memoryBytes: 4000, pids: 0, netRxBytes: 0, netTxBytes: 0 });
  });

  it("reads 0 % without a previous sample (a stopped container, or Docker's zero time) instead of NaN", () => {
    const u = usageFromDockerStats({ read: '0001-01-01T00:00:00Z', cpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 0 }, precpu_stats: {} }, 7);
    expect(u).toEqual({ atMs: 7, cpuPercent: 0, memoryBytes: 0, memoryLimitBytes: 0, pids: 0, netRxBytes: 0, netTxBytes: 0 });
  });
});
