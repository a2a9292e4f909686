import { BerthError, type PoolConfig } from '@berth/contracts';
import { newWorkspaceId, type Logger } from '@berth/service-kit';
import { agentSpawn } from './agent/agent-exec.js';
import type { AgentRegistry } from './agent/agent-registry.js';
import type { PoolManagerConfig } from './config.js';
import { workspaceVolumeLabels, workspaceVolumeName, type WorkloadDriver } from './driver/workload-driver.js';
import { DiskImages, diskVolumeOptions } from './disk/disk-images.js';
import { isWorkloadError } from './driver/workload-error.js';
import type { EventPublisher } from './events.js';
import type { Host } from './host.js';
import type { LlmKeys } from './llm/llm-keys.js';
import type { WorkspaceStore } from './state/workspace-store.js';
import { buildWorkloadSpec } from './workload-spec.js';
import type { VolumeMount } from './volumes/volume-names.js';
import { prepareWorkspaceVolume } from './volumes/workspace-owned.js';
import { layerWorkspaceVolume } from './volumes/layered-workspace.js';

const AGENT_START_TIMEOUT_MS = 3_000;

/**
 * The engine refusing to start the image's process (no such executable, not executable for the
 * workspace user, a bad entrypoint): a retry meets the same image, so it is not retryable.
 */
function startFailure(err: unknown, image: string): unknown {
  if (!isWorkloadError(err, 'cannot_start')) return err;
  return new BerthError('CONTAINER_EXITED', `a container of image ${image} could not start: it cannot serve as a workspace`, { cause: err });
}

export interface ProvisionRequest {
  pool: PoolConfig;
  image: string;
  containerPorts: number[];
  /** The caller's volume name ('' for none) and the owner's volume that stands for it. */
  volumeName: string;
  ownerVolume?: VolumeMount | undefined;
  /** The owner's npm cache (none for a warm-pool fill), fetched once capacity is reserved (its first use takes a task). */
  npmCache?: () => Promise<VolumeMount | undefined>;
  /** Empty for a warm-pool fill; set for a cold create on behalf of a caller. */
  requestId: string;
  owner: string;
  name: string;
  engineName: (id: string) => string;
  /** A /workspace of its own of this size (MiB), on a cold create (docs/limits.md). */
  diskMb?: number | undefined;
}

/**
 * Reserves capacity and ports in Redis, creates the container, then marks it ready. Any failure
 * after the reservation removes the container and releases the reservation: nothing half-done.
 */
export class Provisioner {
  private readonly disks: DiskImages;

  constructor(
    private readonly store: WorkspaceStore,
    private readonly driver: WorkloadDriver,
    private readonly config: PoolManagerConfig,
    private readonly host: Host,
    private readonly events: EventPublisher,
    private readonly logger: Logger,
    private readonly llm: LlmKeys,
    private readonly agents?: AgentRegistry,
  ) {
    this.disks = new DiskImages(config);
  }

  async provision(req: ProvisionRequest): Promise<{ id: string; existing: boolean }> {
    const id = newWorkspaceId(this.config.BERTH_HOST_ID);
    if (req.diskMb !== undefined && !this.disks.enabled)
      throw new BerthError('LIMIT_UNSUPPORTED', 'this host has no disk limits (WORKSPACE_DISK_DIR is not set): create without diskMb');
    const { outcome, id: existingId } = await this.store.reserve({
      id,
      requestId: req.requestId,
      owner: req.owner,
      name: req.name,
      pool: req.pool.name,
      image: req.image,
      volumeName: req.volumeName,
      memoryMb: req.pool.memoryMb,
      containerPorts: req.containerPorts,
      maxCount: this.host.capacity.maxContainers,
      maxMemoryMb: this.host.capacity.maxMemoryMb,
      portRange: this.host.capacity.portRange,
    });
    switch (outcome) {
      case 'existing':
        return { id: existingId, existing: true };
      case 'name_conflict':
        throw new BerthError('NAME_CONFLICT', `a container named ${req.name} already exists`);
      case 'capacity':
        throw new BerthError('CAPACITY_EXHAUSTED', 'this host is at its container or memory budget', { retryAfterSeconds: 5 });
      case 'ports':
        throw new BerthError('PORTS_EXHAUSTED', 'no free host port in the configured range', { retryAfterSeconds: 5 });
      case 'reserved':
        break;
    }
    const record = await this.store.get(id);
    let ref: string | undefined;
    try {
      const agentDir = await this.agents?.create(id);
      // The LLM key now, off the claim's path (registered with egress only at the claim).
      await this.llm.prepare(id);
      const npmCache = await req.npmCache?.();
      // Any other image runs under berth's keep-alive, whatever its own CMD (docs/migrating-from-artie.md).
      const runsAgent = await this.driver.runsAgent(req.image);
      // The disk and its volume before anything mounts /workspace (the keep-alive's preparation does).
      const disk = req.diskMb === undefined ? undefined : { device: await this.disks.create(id, req.diskMb), mb: req.diskMb };
      if (disk) await this.driver.ensureVolume(workspaceVolumeName(id), workspaceVolumeLabels(this.host.id, id), diskVolumeOptions(disk.device));
      if (!runsAgent || req.ownerVolume) await prepareWorkspaceVolume(this.driver, this.config, id, req.ownerVolume);
      // A disk-limited /workspace is its own filesystem: the image's tree is copied into it, not layered.
      const volumeReady = !disk && runsAgent && !req.ownerVolume && (await layerWorkspaceVolume(this.driver, this.config, id, req.image));
      const spec = buildWorkloadSpec(
        {
          id,
          name: req.engineName(id),
          pool: req.pool,
          image: req.image,
          ports: record?.ports ?? {},
          volumeName: req.volumeName,
          ownerVolume: req.ownerVolume,
          npmCache,
          agentDir,
          owner: req.owner,
          keepAlive: !runsAgent,
          disk,
          volumeReady,
        },
        this.config,
        this.host,
      );
      ref = await this.driver.create(spec).catch((err: unknown) => {
        throw startFailure(err, req.image);
      });
      const answered = this.agents && runsAgent ? await this.agentUp(id) : false;
      // An agent that answered shows the container runs; otherwise it must stay up a moment.
      if (await this.driver.exitedWithin(ref, answered ? 0 : this.config.START_CHECK_MS)) {
        throw new BerthError('CONTAINER_EXITED', `a container of image ${req.image} exited while starting: it cannot serve as a workspace`);
      }
      if (!(await this.store.markReady(id, ref))) throw new Error('workspace was stopped while being created');
    } catch (err) {
      // Reconcile took this create for abandoned and finished it: the container may be handed out already.
      if (ref && (await this.store.readyWith(id, ref).catch(() => false))) {
        this.logger.warn({ err, id, pool: req.pool.name }, 'create finished by reconcile; its container stays');
        throw new BerthError('SERVICE_UNAVAILABLE', 'could not start a container; try again', { retryAfterSeconds: 1, cause: err });
      }
      if (ref) await this.driver.remove(ref).catch(() => undefined);
      // The loop device only once no volume names it; otherwise reconcile detaches it later.
      if (
        await this.driver.removeVolume(workspaceVolumeName(id)).then(
          () => true,
          () => false,
        )
      )
        await this.disks.remove(id).catch(() => undefined);
      await this.agents?.remove(id).catch(() => undefined);
      this.llm.drop(id);
      await this.store.release(id);
      this.events.publish(id, 'failed', req.pool.name, 'create failed', { owner: req.owner });
      this.logger.warn({ err, id, pool: req.pool.name }, 'create failed');
      // A failure that will not pass is said as it is; anything else may pass on a retry.
      if (err instanceof BerthError && (!err.retryable || err.code === 'CAPACITY_EXHAUSTED')) throw err;
      throw new BerthError('SERVICE_UNAVAILABLE', 'could not start a container; try again', { retryAfterSeconds: 2, cause: err });
    }
    this.events.publish(id, 'created', req.pool.name, undefined, { owner: req.owner });
    return { id, existing: false };
  }

  /**
   * A workspace is handed out once its agent has run a first command (`true`), so the caller's
   * first command neither pays for `docker exec` nor for a cold agent. An agent that is late only
   * costs that: commands fall back to `docker exec` meanwhile.
   */
  private async agentUp(id: string): Promise<boolean> {
    const agents = this.agents!;
    const deadline = Date.now() + AGENT_START_TIMEOUT_MS;
    while (await agents.waitIdle(id, deadline - Date.now())) {
      const conn = await agents.take(id, 0);
      if (!conn) continue;
      const proc = await agentSpawn(conn, ['true'], {});
      if (!proc) continue;
      for await (const _ of proc.output) {
        /* nothing expected */
      }
      if ((await proc.exitCode()) === 0) return true;
    }
    this.logger.warn({ id }, 'workspace agent did not answer in time; commands use docker exec until it does');
    return false;
  }
}
