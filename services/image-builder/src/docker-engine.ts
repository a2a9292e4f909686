import Docker, { type ContainerCreateOptions } from 'dockerode';
import { BUILD_LABELS, WORKLOAD_LABELS } from '@berth/contracts';
import { buildContainerName } from './copy-spec.js';
import { dockerAnswers, isDockerStatus } from '@berth/service-kit';

/** The workspace labels pool-manager sets (services/pool-manager/src/driver/workload-driver.ts). */

export interface WorkspaceInfo {
  /** The image it was created from (its `berth.image` label). */
  image: string;
  /** The named volume at /workspace, if any. */
  volume: string | undefined;
}

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
  entrypoint: string[] | null;
  cmd: string[] | null;
}

/** What it is to commit a container: its new image's config (labels merge over the container's). */
export interface CommitConfig {
  labels: Record<string, string>;
  entrypoint: string[] | null;
  cmd: string[] | null;
}

/** The Docker calls image-builder makes, through dockerode. */
export class DockerEngine {
  readonly docker: Docker;

  constructor(socketPath: string) {
    this.docker = new Docker({ socketPath });
  }

  async findWorkspace(hostId: string, id: string): Promise<WorkspaceInfo | undefined> {
    const list = await this.docker.listContainers({
      all: true,
      filters: { label: [`${WORKLOAD_LABELS.managed}=true`, `${WORKLOAD_LABELS.host}=${hostId}`, `${WORKLOAD_LABELS.id}=${id}`] },
    });
    const found = list[0];
    if (!found) return undefined;
    const info = await this.docker
      .getContainer(found.Id)
      .inspect()
      .catch((err: unknown) => {
        if (isDockerStatus(err, 404)) return undefined;
        throw err;
      });
    if (!info) return undefined;
    const mount = info.Mounts.find((m) => m.Destination === '/workspace' && m.Type === 'volume');
    return { image: info.Config.Labels[WORKLOAD_LABELS.image] ?? info.Config.Image, volume: info.Config.Labels[WORKLOAD_LABELS.volume] ?? mount?.Name };
  }

  async volumeExists(name: string): Promise<boolean> {
    try {
      await this.docker.getVolume(name).inspect();
      return true;
    } catch (err) {
      if (isDockerStatus(err, 404)) return false;
      throw err;
    }
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      const config = info.Config as { Labels?: Record<string, string> | null; Entrypoint?: string[] | string | null; Cmd?: string[] | null };
      const entrypoint = typeof config.Entrypoint === 'string' ? [config.Entrypoint] : (config.Entrypoint ?? null);
      return { id: info.Id, labels: config.Labels ?? {}, entrypoint, cmd: config.Cmd ?? null };
    } catch (err) {
      if (isDockerStatus(err, 404)) return undefined;
      throw err;
    }
  }

  /** Creates, starts and waits for a container; kills it at the deadline or on abort. */
  async runToExit(opts: ContainerCreateOptions, timeoutMs: number, signal: AbortSignal): Promise<{ ref: string; exitCode: number; output: string }> {
    const container = await this.docker.createContainer(opts);
    const kill = () => {
      void container.kill().catch(() => undefined);
    };
    const timer = setTimeout(kill, timeoutMs);
    signal.addEventListener('abort', kill, { once: true });
    try {
      await container.start();
      if (signal.aborted) kill();
      const result = (await container.wait()) as { StatusCode: number };
      if (signal.aborted) throw new Error('build aborted');
      // The copy container has a TTY, so its log is plain text (no multiplexed frames).
      const logs = (await container.logs({ stdout: true, stderr: true, tail: 20 })) as unknown as Buffer;
      return { ref: container.id, exitCode: result.StatusCode, output: String(logs).slice(-2000) };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', kill);
    }
  }

  /** Commits a stopped container as an untagged image; `tag` names it once it is complete. */
  async commit(ref: string, config: CommitConfig): Promise<string> {
    const body = { Labels: config.labels, Entrypoint: config.entrypoint ?? [], Cmd: config.cmd ?? [] };
    const res = (await this.docker.getContainer(ref).commit({ _query: { container: ref, pause: false }, _body: body })) as { Id: string };
    return res.Id;
  }

  /** Points `repo:tag` at image `id` (taking the tag from the image that had it, in one engine call). */
  async tag(id: string, repo: string, tag: string): Promise<void> {
    await this.docker.getImage(id).tag({ repo, tag });
  }

  async removeContainer(ref: string): Promise<void> {
    try {
      await this.docker.getContainer(ref).remove({ force: true, v: true });
    } catch (err) {
      if (!isDockerStatus(err, 404) && !isDockerStatus(err, 409)) throw err;
    }
  }

  /**
   * Copy containers this builder left behind. A committed image carries its copy container's
   * labels (Docker merges them), so a container counts only when its name matches its build id too.
   */
  async listBuildContainers(hostId: string): Promise<{ ref: string; buildId: string }[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${BUILD_LABELS.builder}=${hostId}`, BUILD_LABELS.build] } });
    return list
      .map((c) => ({ ref: c.Id, buildId: c.Labels[BUILD_LABELS.build] ?? '', name: (c.Names[0] ?? '').replace(/^\//, '') }))
      .filter((c) => c.buildId !== '' && c.name === buildContainerName(c.buildId));
  }

  /** Untagged images carrying all these labels (`key=value` or `key`). */
  async listDanglingImages(labels: string[]): Promise<string[]> {
    const list = await this.docker.listImages({ filters: { dangling: ['true'], label: labels } });
    return list.map((i) => i.Id);
  }

  /** Removes an image unless a container still uses it (then it is kept for the next collection). */
  async removeImage(id: string): Promise<'removed' | 'in-use' | 'gone'> {
    try {
      await this.docker.getImage(id).remove({ noprune: false });
      return 'removed';
    } catch (err) {
      if (isDockerStatus(err, 404)) return 'gone';
      if (isDockerStatus(err, 409)) return 'in-use';
      throw err;
    }
  }

  ping(): Promise<boolean> {
    return dockerAnswers(this.docker);
  }
}
