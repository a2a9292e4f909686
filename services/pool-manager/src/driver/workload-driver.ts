import { WORKLOAD_LABELS } from '@berth/contracts';
import type { ExecProcess, SpawnOptions } from './exec-process.js';
import type { VolumeMount } from '../volumes/volume-names.js';

/** One workspace as berth asks the engine for it (Docker today; a Kubernetes driver would map it to a pod). */
export interface WorkloadSpec {
  id: string;
  /** Engine-side name; `-claimed` suffix marks a claimed workspace (see WorkloadNames). */
  name: string;
  image: string;
  labels: Record<string, string>;
  cpus: number;
  memoryMb: number;
  pids: number;
  tmpfsMb: number;
  ports: { containerPort: number; hostPort: number }[];
  bindAddress: string;
  network: string;
  /** The owner's named volume (at its target); without it, the workspace's own volume at /workspace. */
  ownerVolume?: VolumeMount | undefined;
  /** The owner's cache volumes (the npm cache), mounted writable at their targets. */
  cacheVolumes?: VolumeMount[];
  /** pool-manager's host directory for the workspace's agent channel, mounted read-only at `target`. */
  agentDir?: { host: string; target: string } | undefined;
  /** The workspace's own disk (a loop device holding ext4) as its /workspace volume; Docker's default volume when absent. */
  disk?: { device: string } | undefined;
  /** Rotation of the engine's log of its output: one file's size (Docker units, `10m`) and how many files are kept. */
  logs?: { maxSize: string; maxFiles: number } | undefined;
  /** OCI runtime by name; the engine's default when absent. */
  runtime?: string | undefined;
  /**
   * An image without berth's agent entrypoint (`node:24-slim`): its entrypoint and command are
   * replaced by a `/bin/sh` keep-alive, so it runs whatever its CMD would have done.
   */
  keepAlive?: boolean;
  /**
   * With keepAlive: host paths of berth's agent files and a static tini, mounted read-only at
   * /opt/berth and /usr/bin/tini; the keep-alive starts the agent with the image's node if it can.
   */
  agentFiles?: { dir: string; tini: string } | undefined;
  /** Its /workspace volume exists already (layered over the image's tree): the engine must not fill it. */
  volumeReady?: boolean;
}

/** A volume as the engine reports it. */
export interface VolumeInfo {
  name: string;
  labels: Record<string, string>;
  createdAt: string | null;
}

export interface WorkloadInfo {
  /** berth id from the `berth.id` label */
  id: string;
  /** engine id */
  ref: string;
  name: string;
  labels: Record<string, string>;
  running: boolean;
  createdAtMs: number;
}

/** A short-lived, hardened helper container (clone, cache copies): no network, never kept. */
export interface TaskSpec {
  image: string;
  argv: string[];
  labels: Record<string, string>;
  mounts: { type: 'volume' | 'bind'; source: string; target: string; readOnly: boolean }[];
  timeoutMs: number;
  /** Output kept (stdout and stderr interleaved), the last bytes win. */
  maxOutputBytes: number;
  memoryMb?: number;
}

export interface TaskResult {
  /** null when it had to be killed at the timeout */
  exitCode: number | null;
  timedOut: boolean;
  /** The last `maxOutputBytes` of stdout and stderr. */
  output: string;
  durationMs: number;
}

/** One sample of a workload's resource use. */
export interface WorkloadUsage {
  atMs: number;
  /** 100 = one full core over the sampling interval. */
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  pids: number;
  netRxBytes: number;
  netTxBytes: number;
}

/**
 * What pool-manager needs of a container engine, in workload terms. Every method fails with a
 * WorkloadError (workload-error.ts) and nothing else engine-specific; a new engine is a new file.
 */
export interface WorkloadDriver {
  /** Creates and starts; returns the engine ref. Removes what it made if start fails. */
  create(spec: WorkloadSpec): Promise<string>;
  /** Force-removes with its anonymous volumes. Succeeds when already gone. */
  remove(ref: string): Promise<void>;
  /** Freezes its processes (they keep their memory: docs/pause.md). Succeeds when already frozen. */
  freeze(ref: string): Promise<void>;
  /** Lets frozen processes run again. Succeeds when already running. */
  thaw(ref: string): Promise<void>;
  /** berth ids of this host's frozen workloads. */
  frozen(hostId: string): Promise<Set<string>>;
  /** berth's own workspace volumes of this host (see workspaceVolumeName), by berth id. */
  listVolumes(hostId: string): Promise<{ name: string; id: string }[]>;
  /** Removes a volume (and the layers of a layered one); succeeds when already gone. */
  removeVolume(name: string): Promise<void>;
  /**
   * Makes `name` a copy-on-write volume over `image`'s tree (docs/templates.md), in constant time;
   * false, making nothing, when the image has no tree. `ownerImage` has an empty /workspace of uid 1000.
   */
  createLayeredVolume(name: string, labels: Record<string, string>, image: string, ownerImage: string): Promise<boolean>;
  rename(ref: string, name: string): Promise<void>;
  /** Every berth-managed workload of this host, running or not. */
  list(hostId: string): Promise<WorkloadInfo[]>;
  /** Starts a process in a running workload (as its user, in /workspace unless told otherwise). */
  spawn(ref: string, argv: string[], opts: SpawnOptions): Promise<ExecProcess>;
  imageExists(image: string): Promise<boolean>;
  /** One resource-use sample of a workload (the engine takes about a second for the CPU figure). */
  usage(ref: string): Promise<WorkloadUsage>;
  /** The last `maxBytes` of a workload's own output (stdout and stderr) since `sinceMs`. */
  recentLogs(ref: string, sinceMs: number, maxBytes: number): Promise<string>;
  /** An image's labels, or undefined when it is not on this host. */
  imageLabels(image: string): Promise<Record<string, string> | undefined>;
  /** Creates, starts and waits for a task container (until timeoutMs), then always removes it. */
  runTask(spec: TaskSpec): Promise<TaskResult>;
  /** Removes task containers of this host left behind by a crash. */
  removeTasks(hostId: string): Promise<number>;
  /** Creates a named volume unless it exists. */
  ensureVolume(name: string, labels: Record<string, string>, options?: Record<string, string>): Promise<void>;
  /** Creates a named volume (an existing one is kept as it is) and returns what the engine holds under that name. */
  createVolume(name: string, labels: Record<string, string>): Promise<VolumeInfo>;
  /** Volumes carrying every one of these labels. */
  listVolumesLabelled(labels: Record<string, string>): Promise<VolumeInfo[]>;
  /** Which of these volumes a container (running or not) mounts. */
  volumesInUse(names: string[]): Promise<Set<string>>;
  /** Waits up to `ms` for a started workload to stop; true when it is not running (0: look once). */
  exitedWithin(ref: string, ms: number): Promise<boolean>;
  /** True when the image's entrypoint is berth's agent (docker/agent), which then serves commands. */
  runsAgent(image: string): Promise<boolean>;
  ensureNetwork(name: string): Promise<void>;
  ping(): Promise<boolean>;
  /** Names of the OCI runtimes registered with the engine. */
  runtimes(): Promise<string[]>;
}

/**
 * The `/workspace` volume of a workspace that names none: a named, labelled volume rather than an
 * anonymous one, so reconcile can find and remove it even when its container was removed out of band.
 */
export const workspaceVolumeName = (id: string) => `berth-${id}`;
export const workspaceVolumeLabels = (hostId: string, id: string) => ({
  [WORKLOAD_LABELS.managed]: 'true',
  [WORKLOAD_LABELS.host]: hostId,
  [WORKLOAD_LABELS.id]: id,
});
