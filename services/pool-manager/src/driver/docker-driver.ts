import { WORKLOAD_LABELS } from '@berth/contracts';
import Docker from 'dockerode';
import { dockerSpawn } from './docker-exec.js';
import type { ExecProcess, SpawnOptions } from './exec-process.js';
import { DockerDemux } from './docker-demux.js';
import { runDockerTask } from './docker-task.js';
import { TailBuffer } from './tail-buffer.js';
import {
  type TaskResult,
  type VolumeInfo,
  type TaskSpec,
  type WorkloadDriver,
  type WorkloadInfo,
  type WorkloadSpec,
  type WorkloadUsage,
} from './workload-driver.js';
import { workloadCreateOptions } from './docker-spec.js';
import { usageFromDockerStats, type DockerStats } from './docker-stats.js';
import { dockerAnswers, WORKSPACE_NETWORK_OPTIONS, wrongNetworkOptions } from '@berth/service-kit';
import { engineCall } from './docker-errors.js';
import { createLayeredVolume, removeVolumeAndLayers } from './docker-layered-volume.js';
import { isWorkloadError, WorkloadError } from './workload-error.js';

const volumeInfo = (v: { Name: string; Labels?: Record<string, string> | null; CreatedAt?: string }): VolumeInfo => ({
  name: v.Name,
  labels: v.Labels ?? {},
  createdAt: v.CreatedAt ? new Date(v.CreatedAt).toISOString() : null,
});

/** The entrypoint of the workspace image, which runs the agent (docker/images/workspace.Dockerfile). */
const AGENT_ENTRYPOINT = '/berth-agent-entrypoint.sh';

/** WorkloadDriver on a Docker engine; every failure leaves as a WorkloadError (docker-errors.ts). */
export class DockerDriver implements WorkloadDriver {
  private readonly docker: Docker;

  constructor(socketPath: string) {
    this.docker = new Docker({ socketPath });
  }

  async create(spec: WorkloadSpec): Promise<string> {
    const container = await engineCall(() => this.docker.createContainer(workloadCreateOptions(spec)));
    try {
      await engineCall(() => container.start());
    } catch (err) {
      await this.remove(container.id);
      throw err;
    }
    return container.id;
  }

  async remove(ref: string): Promise<void> {
    try {
      await engineCall(() => this.docker.getContainer(ref).remove({ force: true, v: true }));
    } catch (err) {
      // Already gone, or its removal already in progress.
      if (!isWorkloadError(err, 'not_found') && !isWorkloadError(err, 'conflict')) throw err;
    }
  }

  /** `docker pause`: the cgroup freezer, ~50 ms here. */
  async freeze(ref: string): Promise<void> {
    const c = this.docker.getContainer(ref);
    try {
      await engineCall(() => c.pause());
    } catch (err) {
      if (isWorkloadError(err, 'not_found') || !(await engineCall(() => c.inspect())).State.Paused) throw err;
    }
  }

  async thaw(ref: string): Promise<void> {
    const c = this.docker.getContainer(ref);
    try {
      await engineCall(() => c.unpause());
    } catch (err) {
      if (isWorkloadError(err, 'not_found')) throw err;
      const { State } = await engineCall(() => c.inspect());
      if (State.Paused || !State.Running) throw err;
    }
  }

  async frozen(hostId: string): Promise<Set<string>> {
    const list = await engineCall(() =>
      this.docker.listContainers({
        all: true,
        filters: { status: ['paused'], label: [`${WORKLOAD_LABELS.managed}=true`, `${WORKLOAD_LABELS.host}=${hostId}`] },
      }),
    );
    return new Set(list.map((c) => c.Labels[WORKLOAD_LABELS.id] ?? ''));
  }

  async listVolumes(hostId: string): Promise<{ name: string; id: string }[]> {
    const { Volumes } = await engineCall(() =>
      this.docker.listVolumes({ filters: { label: [`${WORKLOAD_LABELS.managed}=true`, `${WORKLOAD_LABELS.host}=${hostId}`] } }),
    );
    return (Volumes ?? []).map((v) => ({ name: v.Name, id: v.Labels?.[WORKLOAD_LABELS.id] ?? '' }));
  }

  removeVolume(name: string): Promise<void> {
    return removeVolumeAndLayers(this.docker, name);
  }

  createLayeredVolume(name: string, labels: Record<string, string>, image: string, ownerImage: string): Promise<boolean> {
    return createLayeredVolume(this.docker, name, labels, image, ownerImage);
  }

  async rename(ref: string, name: string): Promise<void> {
    await engineCall(() => this.docker.getContainer(ref).rename({ name }));
  }

  async list(hostId: string): Promise<WorkloadInfo[]> {
    const all = await engineCall(() =>
      this.docker.listContainers({
        all: true,
        filters: { label: [`${WORKLOAD_LABELS.managed}=true`, `${WORKLOAD_LABELS.host}=${hostId}`] },
      }),
    );
    return all.map((c) => ({
      id: c.Labels[WORKLOAD_LABELS.id] ?? '',
      ref: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      labels: c.Labels,
      // A paused (frozen) workspace is still there: reconcile keeps and restores it (pause/pauses.ts).
      running: c.State === 'running' || c.State === 'paused',
      createdAtMs: c.Created * 1000,
    }));
  }

  spawn(ref: string, argv: string[], opts: SpawnOptions): Promise<ExecProcess> {
    return engineCall(() => dockerSpawn(this.docker, ref, argv, opts));
  }

  async usage(ref: string): Promise<WorkloadUsage> {
    const stats = (await engineCall(() => this.docker.getContainer(ref).stats({ stream: false }))) as unknown as DockerStats;
    return usageFromDockerStats(stats);
  }

  async imageExists(image: string): Promise<boolean> {
    try {
      await engineCall(() => this.docker.getImage(image).inspect());
      return true;
    } catch (err) {
      if (isWorkloadError(err, 'not_found')) return false;
      throw err;
    }
  }

  async recentLogs(ref: string, sinceMs: number, maxBytes: number): Promise<string> {
    const raw = (await engineCall(() =>
      this.docker.getContainer(ref).logs({ stdout: true, stderr: true, follow: false, since: Math.floor(sinceMs / 1000) }),
    )) as unknown as Buffer;
    const tail = new TailBuffer(maxBytes);
    const demux = new DockerDemux();
    demux.on('data', (chunk: { data: Buffer }) => tail.write(chunk.data));
    demux.end(raw);
    await new Promise<void>((resolve) => {
      demux.once('end', resolve);
      demux.once('error', () => resolve());
      demux.resume();
    });
    return tail.text();
  }

  async imageLabels(image: string): Promise<Record<string, string> | undefined> {
    try {
      const info = await engineCall(() => this.docker.getImage(image).inspect());
      return info.Config?.Labels ?? {};
    } catch (err) {
      if (isWorkloadError(err, 'not_found')) return undefined;
      throw err;
    }
  }

  runTask(spec: TaskSpec): Promise<TaskResult> {
    return engineCall(() => runDockerTask(this.docker, spec));
  }

  async removeTasks(hostId: string): Promise<number> {
    const all = await engineCall(() =>
      this.docker.listContainers({ all: true, filters: { label: [WORKLOAD_LABELS.task, `${WORKLOAD_LABELS.host}=${hostId}`] } }),
    );
    for (const c of all) await this.remove(c.Id);
    return all.length;
  }

  async ensureVolume(name: string, labels: Record<string, string>, options?: Record<string, string>): Promise<void> {
    try {
      await engineCall(() => this.docker.getVolume(name).inspect());
    } catch (err) {
      if (!isWorkloadError(err, 'not_found')) throw err;
      await engineCall(() => this.docker.createVolume({ Name: name, Labels: labels, ...(options && { Driver: 'local', DriverOpts: options }) }));
    }
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<VolumeInfo> {
    await engineCall(() => this.docker.createVolume({ Name: name, Labels: labels }));
    const info = (await engineCall(() => this.docker.getVolume(name).inspect())) as {
      Name: string;
      Labels?: Record<string, string> | null;
      CreatedAt?: string;
    };
    return volumeInfo(info);
  }

  async listVolumesLabelled(labels: Record<string, string>): Promise<VolumeInfo[]> {
    const { Volumes } = await engineCall(() => this.docker.listVolumes({ filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } }));
    return (Volumes ?? []).map((v) => volumeInfo(v as { Name: string; Labels?: Record<string, string> | null; CreatedAt?: string }));
  }

  async volumesInUse(names: string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const wanted = new Set(names);
    const users = await engineCall(() => this.docker.listContainers({ all: true, filters: { volume: names } }));
    return new Set(users.flatMap((c) => c.Mounts.map((m) => m.Name ?? '')).filter((n) => wanted.has(n)));
  }

  async exitedWithin(ref: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      const { State } = await engineCall(() => this.docker.getContainer(ref).inspect());
      if (!State.Running) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now()))));
    }
  }

  async runsAgent(image: string): Promise<boolean> {
    try {
      const { Config } = await engineCall(() => this.docker.getImage(image).inspect());
      return [...(Config.Entrypoint ?? []), ...(Config.Cmd ?? [])].some((arg) => arg.endsWith(AGENT_ENTRYPOINT));
    } catch {
      return false;
    }
  }

  async ensureNetwork(name: string): Promise<void> {
    const found = (await engineCall(() => this.docker.listNetworks({ filters: { name: [name] } }))).find((n) => n.Name === name);
    if (found) {
      const wrong = wrongNetworkOptions(found.Driver, found.Options ?? {});
      if (wrong.length === 0) return;
      // Recreated when empty; never silently used: workspaces on it would reach each other or the outside.
      const { Containers } = (await engineCall(() => this.docker.getNetwork(found.Id).inspect())) as { Containers?: Record<string, unknown> };
      if (Object.keys(Containers ?? {}).length > 0) {
        throw new WorkloadError(
          'conflict',
          `network ${name} has ${wrong.join(', ')} and containers attached: remove them and the network (or run scripts/down), then start again`,
        );
      }
      await engineCall(() => this.docker.getNetwork(found.Id).remove()).catch((err: unknown) => {
        if (!isWorkloadError(err, 'not_found')) throw err;
      });
    }
    try {
      await engineCall(() =>
        this.docker.createNetwork({ Name: name, Driver: 'bridge', Labels: { [WORKLOAD_LABELS.managed]: 'true' }, Options: WORKSPACE_NETWORK_OPTIONS }),
      );
    } catch (err) {
      if (!isWorkloadError(err, 'conflict')) throw err;
    }
  }

  ping(): Promise<boolean> {
    return dockerAnswers(this.docker);
  }

  async runtimes(): Promise<string[]> {
    const info = (await engineCall(() => this.docker.info())) as { Runtimes?: Record<string, unknown> };
    return Object.keys(info.Runtimes ?? {});
  }
}
