import type { ExecProcess, SpawnOptions } from './exec-process.js';

/** What berth asks of a container engine. Docker today; Kubernetes is the next implementation. */
export interface WorkloadSpec {
  id: string;
  /** Engine-side name; `-claimed` suffix marks a claimed workspace (see claimMarkerName). */
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
  volumeName?: string | undefined;
  /** Shared cache volumes (the npm cache), mounted writable at their targets. */
  cacheVolumes?: { source: string; target: string }[];
  /** pool-manager's host directory for the workspace's agent channel, mounted read-only at `target`. */
  agentDir?: { host: string; target: string } | undefined;
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

export interface WorkloadDriver {
  /** Creates and starts; returns the engine ref. Removes what it made if start fails. */
  create(spec: WorkloadSpec): Promise<string>;
  /** Force-removes with its anonymous volumes. Succeeds when already gone. */
  remove(ref: string): Promise<void>;
  /** berth's own workspace volumes of this host (see workspaceVolumeName), by berth id. */
  listVolumes(hostId: string): Promise<{ name: string; id: string }[]>;
  /** Removes a volume; succeeds when already gone. */
  removeVolume(name: string): Promise<void>;
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
  ensureVolume(name: string, labels: Record<string, string>): Promise<void>;
  /** True when the image's entrypoint is berth's agent (docker/agent), which then serves commands. */
  runsAgent(image: string): Promise<boolean>;
  ensureNetwork(name: string): Promise<void>;
  ping(): Promise<boolean>;
}

export const LABELS = {
  managed: 'berth.managed',
  id: 'berth.id',
  pool: 'berth.pool',
  host: 'berth.host',
  ports: 'berth.ports',
  memoryMb: 'berth.memory-mb',
  image: 'berth.image',
  volume: 'berth.volume',
  /** Marks a task container (not a workspace: reconcile leaves it alone), value: the task kind. */
  task: 'berth.task',
  /** Set on containers created for a caller; a warm container gets its owner in its name when claimed. */
  owner: 'berth.owner',
} as const;

/**
 * The engine-side name of a claimed workspace: `berth-<id>-o<owner as hex>-claimed`. Docker labels
 * cannot change after create, so the owner of a claimed warm container lives here, hex-encoded
 * (any owner string fits Docker's name rules; owners are not secret). Reconcile reads it back.
 */
export const claimMarkerName = (id: string, owner: string) => `berth-${id}-o${Buffer.from(owner, 'utf8').toString('hex')}-claimed`;
export const warmName = (id: string) => `berth-${id}`;
export const isClaimMarked = (name: string) => name.replace(/^\//, '').endsWith('-claimed');
const OWNER_IN_NAME = /-o((?:[\da-f]{2})+)-claimed$/;
/** The owner a claim marker name carries, or undefined for a name without one (older markers). */
export const ownerOfClaimMarker = (name: string): string | undefined => {
  const hex = OWNER_IN_NAME.exec(name)?.[1];
  return hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('utf8');
};

/**
 * The `/workspace` volume of a workspace that names none: a named, labelled volume rather than an
 * anonymous one, so reconcile can find and remove it even when its container was removed out of band.
 */
export const workspaceVolumeName = (id: string) => `berth-${id}`;
