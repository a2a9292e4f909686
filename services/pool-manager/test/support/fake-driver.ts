import { WORKLOAD_LABELS } from '@berth/contracts';
import type { ExecProcess, SpawnOptions } from '../../src/driver/exec-process.js';
import {
  workspaceVolumeLabels,
  workspaceVolumeName,
  type TaskResult,
  type TaskSpec,
  type VolumeInfo,
  type WorkloadDriver,
  type WorkloadInfo,
  type WorkloadSpec,
  type WorkloadUsage,
} from '../../src/driver/workload-driver.js';
import { WorkloadError, type WorkloadErrorKind } from '../../src/driver/workload-error.js';

interface FakeWorkload {
  ref: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  running: boolean;
  frozen?: boolean;
  createdAtMs: number;
  /** Volumes it mounts (its own /workspace volume when it names none). */
  volumes: string[];
}

type Method = keyof WorkloadDriver;

/**
 * An engine in memory behind WorkloadDriver, for unit tests of pool-manager's decisions. Faults are
 * injected per method (`failNext`), workloads can exit or vanish behind berth's back (`exit`,
 * `vanish`), and every call is counted (`calls`).
 */
export class FakeDriver implements WorkloadDriver {
  readonly workloads = new Map<string, FakeWorkload>();
  readonly volumes = new Map<string, VolumeInfo>();
  readonly images = new Map<string, Record<string, string>>();
  readonly calls = new Map<Method, number>();
  private readonly faults = new Map<Method, WorkloadErrorKind[]>();
  private nextRef = 1;

  constructor(images: string[] = []) {
    for (const image of images) this.images.set(image, {});
  }

  /** The next `times` calls of `method` fail with a WorkloadError of `kind`. */
  failNext(method: Method, kind: WorkloadErrorKind, times = 1): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...Array<WorkloadErrorKind>(times).fill(kind)]);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** The workload's process ended (it keeps its container). */
  exit(ref: string): void {
    this.mustGet(ref).running = false;
  }

  /** Removed out of band (someone ran `docker rm -f`). */
  vanish(ref: string): void {
    this.workloads.delete(ref);
  }

  count(method: Method): number {
    return this.calls.get(method) ?? 0;
  }

  /** The workload carrying berth id `id`, if any. */
  byId(id: string): FakeWorkload | undefined {
    return [...this.workloads.values()].find((w) => w.labels[WORKLOAD_LABELS.id] === id);
  }

  /** Counts the call and throws the next injected fault of `method`, if one is queued. */
  private enter(method: Method): void {
    this.calls.set(method, this.count(method) + 1);
    const kind = this.faults.get(method)?.shift();
    if (kind) throw new WorkloadError(kind, `injected ${kind} in ${method}`);
  }

  private mustGet(ref: string): FakeWorkload {
    const w = this.workloads.get(ref);
    if (!w) throw new WorkloadError('not_found', `no workload ${ref}`);
    return w;
  }

  async create(spec: WorkloadSpec): Promise<string> {
    this.enter('create');
    if (!this.images.has(spec.image)) throw new WorkloadError('not_found', `no image ${spec.image}`);
    if ([...this.workloads.values()].some((w) => w.name === spec.name)) throw new WorkloadError('conflict', `name ${spec.name} is taken`);
    const ref = `fake-${this.nextRef++}`;
    const own = spec.ownerVolume ? [spec.ownerVolume.source] : [workspaceVolumeName(spec.id)];
    // The engine makes the workspace's own volume as it mounts it (docker-spec.ts), with its labels.
    if (!spec.ownerVolume) await this.ensureVolume(own[0]!, workspaceVolumeLabels(spec.labels[WORKLOAD_LABELS.host] ?? '', spec.id));
    this.workloads.set(ref, { ref, name: spec.name, image: spec.image, labels: { ...spec.labels }, running: true, createdAtMs: Date.now(), volumes: own });
    return ref;
  }

  async remove(ref: string): Promise<void> {
    this.enter('remove');
    this.workloads.delete(ref);
  }

  async freeze(ref: string): Promise<void> {
    this.enter('freeze');
    this.mustGet(ref).frozen = true;
  }

  async thaw(ref: string): Promise<void> {
    this.enter('thaw');
    this.mustGet(ref).frozen = false;
  }

  async frozen(hostId: string): Promise<Set<string>> {
    this.enter('frozen');
    return new Set(
      [...this.workloads.values()].filter((w) => w.frozen && w.labels[WORKLOAD_LABELS.host] === hostId).map((w) => w.labels[WORKLOAD_LABELS.id] ?? ''),
    );
  }

  async listVolumes(hostId: string): Promise<{ name: string; id: string }[]> {
    this.enter('listVolumes');
    return [...this.volumes.values()]
      .filter((v) => v.labels[WORKLOAD_LABELS.managed] === 'true' && v.labels[WORKLOAD_LABELS.host] === hostId)
      .map((v) => ({ name: v.name, id: v.labels[WORKLOAD_LABELS.id] ?? '' }));
  }

  async removeVolume(name: string): Promise<void> {
    this.enter('removeVolume');
    if ((await this.volumesInUse([name])).has(name)) throw new WorkloadError('conflict', `volume ${name} is in use`);
    this.volumes.delete(name);
  }

  /** Images given a tree (image-builder's job on a real engine): their workspaces get layered volumes. */
  readonly imageTrees = new Set<string>();

  async createLayeredVolume(name: string, labels: Record<string, string>, image: string): Promise<boolean> {
    this.enter('createLayeredVolume');
    if (!this.imageTrees.has(image)) return false;
    await this.ensureVolume(name, labels);
    return true;
  }

  async rename(ref: string, name: string): Promise<void> {
    this.enter('rename');
    const w = this.mustGet(ref);
    if ([...this.workloads.values()].some((o) => o !== w && o.name === name)) throw new WorkloadError('conflict', `name ${name} is taken`);
    w.name = name;
  }

  async list(hostId: string): Promise<WorkloadInfo[]> {
    this.enter('list');
    return [...this.workloads.values()]
      .filter((w) => w.labels[WORKLOAD_LABELS.managed] === 'true' && w.labels[WORKLOAD_LABELS.host] === hostId)
      .map((w) => ({
        id: w.labels[WORKLOAD_LABELS.id] ?? '',
        ref: w.ref,
        name: w.name,
        labels: { ...w.labels },
        running: w.running,
        createdAtMs: w.createdAtMs,
      }));
  }

  async spawn(ref: string, _argv: string[], _opts: SpawnOptions): Promise<ExecProcess> {
    this.enter('spawn');
    if (!this.mustGet(ref).running) throw new WorkloadError('exited', `workload ${ref} is not running`);
    return {
      output: (async function* () {
        /* no output */
      })(),
      exitCode: () => Promise.resolve(0),
      truncated: () => ({ stdout: false, stderr: false }),
      write: () => undefined,
      resize: () => Promise.resolve(),
      kill: () => Promise.resolve(),
    };
  }

  async imageExists(image: string): Promise<boolean> {
    this.enter('imageExists');
    return this.images.has(image);
  }

  async usage(ref: string): Promise<WorkloadUsage> {
    this.enter('usage');
    this.mustGet(ref);
    return { atMs: Date.now(), cpuPercent: 0, memoryBytes: 0, memoryLimitBytes: 0, pids: 1, netRxBytes: 0, netTxBytes: 0 };
  }

  async recentLogs(ref: string): Promise<string> {
    this.enter('recentLogs');
    this.mustGet(ref);
    return '';
  }

  async imageLabels(image: string): Promise<Record<string, string> | undefined> {
    this.enter('imageLabels');
    return this.images.get(image);
  }

  async runTask(_spec: TaskSpec): Promise<TaskResult> {
    this.enter('runTask');
    return { exitCode: 0, timedOut: false, output: '', durationMs: 0 };
  }

  async removeTasks(): Promise<number> {
    this.enter('removeTasks');
    return 0;
  }

  async ensureVolume(name: string, labels: Record<string, string>): Promise<void> {
    this.enter('ensureVolume');
    if (!this.volumes.has(name)) this.volumes.set(name, { name, labels: { ...labels }, createdAt: new Date().toISOString() });
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<VolumeInfo> {
    this.enter('createVolume');
    if (!this.volumes.has(name)) this.volumes.set(name, { name, labels: { ...labels }, createdAt: new Date().toISOString() });
    return this.volumes.get(name)!;
  }

  async listVolumesLabelled(labels: Record<string, string>): Promise<VolumeInfo[]> {
    this.enter('listVolumesLabelled');
    return [...this.volumes.values()].filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  }

  async volumesInUse(names: string[]): Promise<Set<string>> {
    const mounted = new Set([...this.workloads.values()].flatMap((w) => w.volumes));
    return new Set(names.filter((n) => mounted.has(n)));
  }

  async exitedWithin(ref: string): Promise<boolean> {
    this.enter('exitedWithin');
    return !this.mustGet(ref).running;
  }

  async runsAgent(): Promise<boolean> {
    return true;
  }

  async ensureNetwork(): Promise<void> {
    this.enter('ensureNetwork');
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async runtimes(): Promise<string[]> {
    return ['runc'];
  }
}
