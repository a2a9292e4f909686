import { WORKLOAD_LABELS } from '@berth/contracts';
import type { ContainerCreateOptions } from 'dockerode';
import type { VolumeMount } from '../volumes/volume-names.js';
import { diskVolumeOptions } from '../disk/disk-images.js';
import { workspaceVolumeLabels, workspaceVolumeName, type WorkloadSpec } from './workload-driver.js';

/** Workspace user: non-root, matches the `berth` user of the workspace image. */
const WORKSPACE_UID = 1000;
export const WORKSPACE_USER = `${WORKSPACE_UID}:${WORKSPACE_UID}`;

/**
 * An owner's volume. Its labels go along: if the owner deleted it between its check and this
 * create, Docker makes it again as the owner's, not as a volume nobody can claim.
 */
const volumeMount = (v: VolumeMount) => ({
  Type: 'volume' as const,
  Source: v.source,
  Target: v.target,
  ReadOnly: false,
  VolumeOptions: { NoCopy: false, DriverConfig: { Name: 'local', Options: {} }, Labels: v.labels },
});

/** The workspace volume's mount points: berth's path, and Artie's `/app` (the same volume). */
const WORKSPACE_MOUNTS = ['/workspace', '/app'] as const;

/**
 * PID 1 of an image that is not berth's workspace image: a shell that sleeps and waits, so it
 * stays up whatever the image's CMD was (`node` exits without a terminal), reaps the orphans that
 * are handed to it (`wait` collects any child) and ends at once on SIGTERM. No tini needed.
 */
const KEEP_ALIVE_LOOP = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";
const KEEP_ALIVE = ['/bin/sh', '-c', KEEP_ALIVE_LOOP];

/** The oldest Node the agent (docker/agent/berth-agent.mjs) runs on. */
const AGENT_MIN_NODE_MAJOR = 22;
/** Where the agent files are mounted, as in berth's workspace image (the agent imports ./pty.mjs beside it). */
const AGENT_FILES_TARGET = '/opt/berth';
/**
 * The keep-alive that also runs the mounted agent when the image's `node` is new enough, restarted
 * if it dies, as the workspace image's entrypoint does. Without such a node: `docker exec`.
 */
const KEEP_ALIVE_WITH_AGENT = [
  '/bin/sh',
  '-c',
  `if node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= ${AGENT_MIN_NODE_MAJOR} ? 0 : 1)' </dev/null >/dev/null 2>&1; then ` +
    `( (until node ${AGENT_FILES_TARGET}/berth-agent.mjs </dev/null; do sleep 1; done) & ); fi; ${KEEP_ALIVE_LOOP}`,
];

/** The hardening every workspace gets (DESIGN.md): nothing here is caller-controlled. */
export function workloadCreateOptions(spec: WorkloadSpec): ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of spec.ports) {
    exposed[`${p.containerPort}/tcp`] = {};
    bindings[`${p.containerPort}/tcp`] = [{ HostIp: spec.bindAddress, HostPort: String(p.hostPort) }];
  }
  const memory = spec.memoryMb * 1024 * 1024;
  return {
    name: spec.name,
    // Not the default (the container id): nothing inside names this workspace or another.
    Hostname: 'workspace',
    Image: spec.image,
    ...(spec.keepAlive && { Entrypoint: spec.agentFiles ? KEEP_ALIVE_WITH_AGENT : KEEP_ALIVE, Cmd: [] }),
    User: WORKSPACE_USER,
    Labels: spec.labels,
    ExposedPorts: exposed,
    WorkingDir: '/workspace',
    Env: ['HOME=/home/berth'],
    HostConfig: {
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      ReadonlyRootfs: true,
      Privileged: false,
      ...(spec.runtime !== undefined && { Runtime: spec.runtime }),
      Tmpfs: {
        '/tmp': `rw,nosuid,nodev,size=${spec.tmpfsMb}m`,
        '/home/berth': `rw,nosuid,nodev,size=${spec.tmpfsMb}m,uid=1000,gid=1000`,
      },
      Mounts: [
        ...WORKSPACE_MOUNTS.map((target) => ({
          Type: 'volume' as const,
          Source: workspaceVolumeName(spec.id),
          Target: target,
          ReadOnly: false,
          // NoCopy false: the volume starts with the image's /workspace, owned by the workspace user.
          // Not for another image: Docker would give the still-empty volume the owner of the image's
          // directory there (root, or none: the working directory it makes), undoing its preparation.
          VolumeOptions: {
            NoCopy: !!spec.keepAlive || !!spec.volumeReady,
            DriverConfig: { Name: 'local', Options: spec.disk ? diskVolumeOptions(spec.disk.device) : {} },
            Labels: workspaceVolumeLabels(spec.labels[WORKLOAD_LABELS.host] ?? '', spec.id),
          },
        })),
        // The owner's node_modules cache, inside the checkout (Docker mounts the deeper path last).
        ...(spec.ownerVolume ? [volumeMount(spec.ownerVolume)] : []),
        ...(spec.cacheVolumes ?? []).map(volumeMount),
        // The agent channel's directory (docker/agent/PROTOCOL.md): this workspace's own, and read-only,
        // so the socket pool-manager listens on and the key file next to it are out of the workspace's reach.
        ...(spec.agentDir ? [{ Type: 'bind' as const, Source: spec.agentDir.host, Target: spec.agentDir.target, ReadOnly: true }] : []),
        ...(spec.agentFiles
          ? [
              { Type: 'bind' as const, Source: spec.agentFiles.dir, Target: AGENT_FILES_TARGET, ReadOnly: true },
              { Type: 'bind' as const, Source: spec.agentFiles.tini, Target: '/usr/bin/tini', ReadOnly: true },
            ]
          : []),
      ],
      PidsLimit: spec.pids,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(spec.cpus * 1e9),
      ...(spec.logs && { LogConfig: { Type: 'json-file', Config: { 'max-size': spec.logs.maxSize, 'max-file': String(spec.logs.maxFiles) } } }),
      PortBindings: bindings,
      NetworkMode: spec.network,
      RestartPolicy: { Name: 'no' },
      IpcMode: 'private',
      PidMode: '',
    },
  };
}
