import type { WorkloadUsage } from './workload-driver.js';

/** The parts of Docker's `GET /containers/{id}/stats` answer berth reads. */
export interface DockerStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number | undefined> };
  pids_stats?: { current?: number };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
}

const EPOCH_ZERO = '0001-01-01T00:00:00Z';

/**
 * Docker's stats as `docker stats` computes them: CPU % from the change between the previous and
 * this sample (100 = one core), memory without the reclaimable page cache (cgroup v1
 * `total_inactive_file`, v2 `inactive_file`).
 */
export function usageFromDockerStats(s: DockerStats, nowMs = Date.now()): WorkloadUsage {
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const cpus = cpu.online_cpus ?? cpu.cpu_usage?.percpu_usage?.length ?? 1;
  const cpuPercent = cpuDelta > 0 && systemDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;

  const mem = s.memory_stats ?? {};
  const inactive = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file ?? 0;
  const usage = mem.usage ?? 0;
  const memoryBytes = inactive < usage ? usage - inactive : usage;

  let netRxBytes = 0;
  let netTxBytes = 0;
  for (const n of Object.values(s.networks ?? {})) {
    netRxBytes += n.rx_bytes ?? 0;
    netTxBytes += n.tx_bytes ?? 0;
  }
  const readMs = s.read && s.read !== EPOCH_ZERO ? Date.parse(s.read) : NaN;
  return {
    atMs: Number.isFinite(readMs) ? readMs : nowMs,
    cpuPercent: Math.round(cpuPercent * 100) / 100,
    memoryBytes,
    memoryLimitBytes: mem.limit ?? 0,
    pids: s.pids_stats?.current ?? 0,
    netRxBytes,
    netTxBytes,
  };
}
