import { WORKLOAD_LABELS } from '@berth/contracts';
import type { PoolConfig } from '@berth/contracts';
import { AGENT_MOUNT } from './agent/agent-dirs.js';
import type { PoolManagerConfig } from './config.js';
import type { Host } from './host.js';
import { type WorkloadSpec } from './driver/workload-driver.js';
import type { VolumeMount } from './volumes/volume-names.js';

export interface SpecInput {
  id: string;
  name: string;
  pool: PoolConfig;
  image: string;
  /** containerPort → hostPort, as reserved in Redis */
  ports: Record<string, number>;
  /** The caller's name of its volume ('' for none), kept in a label for reconcile. */
  volumeName: string;
  /** The owner's volume to mount for `volumeName` (see volumes/owner-volumes.ts). */
  ownerVolume?: VolumeMount | undefined;
  /** The owner's npm cache; none for a warm-pool fill (no owner yet). */
  npmCache?: VolumeMount | undefined;
  /** Host directory for the agent's socket; none when agents are off. */
  agentDir?: string | undefined;
  /** The caller a cold create is for; empty for a warm-pool fill. */
  owner?: string;
  /** The workspace's own disk (diskMb): its loop device and size. */
  disk?: { device: string; mb: number } | undefined;
  /** The image has no berth agent entrypoint: run it under the keep-alive (WorkloadSpec.keepAlive). */
  keepAlive?: boolean;
  /** Its /workspace volume is layered over the image's tree already (volumes/layered-workspace.ts). */
  volumeReady?: boolean;
}

/** The engine spec for a workspace; its labels carry everything reconcile needs to rebuild Redis. */
export function buildWorkloadSpec(input: SpecInput, config: PoolManagerConfig, host: Pick<Host, 'id'>): WorkloadSpec {
  const { id, pool } = input;
  return {
    id,
    name: input.name,
    image: input.image,
    labels: {
      [WORKLOAD_LABELS.managed]: 'true',
      [WORKLOAD_LABELS.id]: id,
      [WORKLOAD_LABELS.pool]: pool.name,
      [WORKLOAD_LABELS.host]: host.id,
      [WORKLOAD_LABELS.ports]: JSON.stringify(input.ports),
      [WORKLOAD_LABELS.memoryMb]: String(pool.memoryMb),
      [WORKLOAD_LABELS.image]: input.image,
      ...(input.volumeName && { [WORKLOAD_LABELS.volume]: input.volumeName }),
      ...(input.owner && { [WORKLOAD_LABELS.owner]: input.owner }),
      ...(input.disk && { [WORKLOAD_LABELS.diskMb]: String(input.disk.mb) }),
    },
    cpus: pool.cpus,
    memoryMb: pool.memoryMb,
    pids: pool.pids,
    tmpfsMb: config.WORKSPACE_TMPFS_MB,
    ports: Object.entries(input.ports).map(([containerPort, hostPort]) => ({ containerPort: Number(containerPort), hostPort })),
    bindAddress: config.PORT_BIND_ADDRESS,
    network: config.WORKSPACE_NETWORK,
    ownerVolume: input.ownerVolume,
    ...(input.npmCache && { cacheVolumes: [input.npmCache] }),
    agentDir: input.agentDir ? { host: input.agentDir, target: AGENT_MOUNT } : undefined,
    runtime: pool.runtime,
    disk: input.disk && { device: input.disk.device },
    logs: { maxSize: config.WORKSPACE_LOG_MAX_SIZE, maxFiles: config.WORKSPACE_LOG_MAX_FILES },
    ...(input.keepAlive && { keepAlive: true }),
    ...(input.volumeReady && { volumeReady: true }),
    // The agent for an image without it: only with an agent channel and both host paths.
    agentFiles:
      input.keepAlive && input.agentDir && config.AGENT_FILES_DIR && config.AGENT_TINI ? { dir: config.AGENT_FILES_DIR, tini: config.AGENT_TINI } : undefined,
  };
}
