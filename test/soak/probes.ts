import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import type { LocalStack } from '../support/local-stack.js';

/** What one service process holds: resident memory and open file descriptors. */
interface ProcessSample {
  rssMb: number;
  fds: number;
}

/** One look at the stack: each service process, and the Docker containers and host ports of its host id. */
export interface StackSample {
  at: string;
  processes: Record<string, ProcessSample>;
  containers: number;
  hostPorts: number;
}

function processSample(pid: number): ProcessSample {
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { rssMb: Math.round(rssKb / 102.4) / 10, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** Host ports published by this host id's containers (one per mapping). */
function hostPortsOf(hostId: string): { containers: number; hostPorts: number } {
  const rows = execFileSync('docker', ['ps', '-a', '--filter', `label=berth.host=${hostId}`, '--format', '{{.ID}} {{.Ports}}'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  const ports = new Set(rows.flatMap((r) => [...r.matchAll(/:(\d+)->/g)].map((m) => m[1])));
  return { containers: rows.length, hostPorts: ports.size };
}

export function sampleStack(stack: LocalStack): StackSample {
  const services = { gateway: stack.gateway, 'pool-manager': stack.poolManager, 'log-streamer': stack.logStreamer };
  const processes: Record<string, ProcessSample> = {};
  for (const [name, p] of Object.entries(services)) {
    if (p.pid === undefined) throw new Error(`${name} is not running`);
    processes[name] = processSample(p.pid);
  }
  return { at: new Date().toISOString(), processes, ...hostPortsOf(stack.hostId) };
}
