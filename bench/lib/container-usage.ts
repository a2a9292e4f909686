import { readFileSync } from 'node:fs';

/**
 * A container's CPU time and memory straight from its cgroup (the kernel's own counters, read on
 * this host as root): exact over any window, where `docker stats --no-stream` gives one ~1 s sample.
 * cgroup v1 (Docker's `cgroupfs` driver: /sys/fs/cgroup/<controller>/docker/<id>) or v2
 * (`systemd` driver: /sys/fs/cgroup/system.slice/docker-<id>.scope).
 */
export interface ContainerUsage {
  /** CPU time used since the container started, ns (every process in it, health probes included). */
  cpuNs: number;
  /** Memory as `docker stats` shows it: usage minus the inactive file cache, MB. */
  memMb: number;
}

const read = (path: string) => readFileSync(path, 'utf8');
const stat = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);

export function containerUsage(id: string): ContainerUsage {
  try {
    const cpuNs = Number(read(`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`));
    const memory = `/sys/fs/cgroup/memory/docker/${id}`;
    const used = Number(read(`${memory}/memory.usage_in_bytes`)) - stat(read(`${memory}/memory.stat`), 'total_inactive_file');
    return { cpuNs, memMb: used / 2 ** 20 };
  } catch {
    const scope = `/sys/fs/cgroup/system.slice/docker-${id}.scope`;
    const cpuNs = stat(read(`${scope}/cpu.stat`), 'usage_usec') * 1000;
    const used = Number(read(`${scope}/memory.current`)) - stat(read(`${scope}/memory.stat`), 'inactive_file');
    return { cpuNs, memMb: used / 2 ** 20 };
  }
}
