import { BerthError, type WorkspaceState } from '@berth/contracts';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@berth/service-kit';
import type { AgentRegistry } from '../agent/agent-registry.js';
import type { PoolManagerConfig } from '../config.js';
import { workspaceVolumeLabels, workspaceVolumeName, type WorkloadDriver } from '../driver/workload-driver.js';
import type { WorkloadNames } from '../driver/workload-names.js';
import type { EventPublisher } from '../events.js';
import type { Host } from '../host.js';
import type { LlmKeys } from '../llm/llm-keys.js';
import type { PoolFiller } from '../pool-filler.js';
import type { PoolRegistry } from '../pools.js';
import type { WorkspaceStore } from '../state/workspace-store.js';
import { buildWorkloadSpec } from '../workload-spec.js';
import { DiskImages, diskVolumeOptions } from '../disk/disk-images.js';
import { layerWorkspaceVolume } from '../volumes/layered-workspace.js';
import type { WorkspaceAccess } from './access.js';

export interface LifecycleDeps {
  store: WorkspaceStore;
  driver: WorkloadDriver;
  access: WorkspaceAccess;
  pools: PoolRegistry;
  filler: PoolFiller;
  events: EventPublisher;
  config: PoolManagerConfig;
  host: Host;
  logger: Logger;
  llm: LlmKeys;
  names: WorkloadNames;
  agents?: AgentRegistry | undefined;
}

/** A claimed workspace's changes of state after its claim: delete (and every other stop), recreate, its LLM key. */
export class Lifecycle {
  private readonly disks: DiskImages;

  constructor(private readonly d: LifecycleDeps) {
    this.disks = new DiskImages(d.config);
  }

  async remove(id: string, owner: string): Promise<void> {
    await this.d.access.visible(id, owner);
    await this.stop(id, 'deleted');
  }

  /**
   * Stops any workspace (caller delete, idle reaping, reconcile): container first, then its ports.
   * `ref` names the container when the record does not have it yet (still creating); `onlyIf`
   * makes the stop conditional on the state the caller saw.
   */
  async stop(id: string, reason: string, opts: { ref?: string; onlyIf?: WorkspaceState } = {}): Promise<void> {
    const record = await this.d.store.get(id);
    if (!record || !(await this.d.store.beginStop(id, opts.onlyIf))) return;
    // The LLM key dies first: egress refuses it even if the container's removal has to be retried.
    await this.d.llm.forget(id, record.state === 'claimed');
    const ref = record.ref || opts.ref;
    if (ref) await this.removeContainer(id, ref);
    await this.d.driver.removeVolume(workspaceVolumeName(id)).then(
      () => this.disks.remove(id).catch((err: unknown) => this.d.logger.warn({ err, id }, 'disk not removed; reconcile retries')),
      (err: unknown) => this.d.logger.warn({ err, id }, 'volume not removed; reconcile retries'),
    );
    await this.d.agents?.remove(id).catch((err: unknown) => this.d.logger.warn({ err, id }, 'agent directory not removed; reconcile retries'));
    await this.d.store.release(id);
    this.d.events.publish(id, 'removed', record.pool, reason, { owner: record.owner });
    this.d.filler.kick(record.pool);
  }

  /** Revoke (DELETE /api/containers/:id/llm-key) or rotate (POST) a caller's workspace's LLM key. */
  async llmKey(id: string, owner: string, action: 'revoke' | 'rotate'): Promise<{ id: string; llmKey: 'active' | 'revoked' }> {
    const record = await this.d.access.visible(id, owner);
    if (action === 'revoke') {
      await this.d.llm.revoke(id);
      return { id, llmKey: 'revoked' };
    }
    await this.d.llm.rotate(record);
    return { id, llmKey: 'active' };
  }

  /**
   * Replaces a claimed workspace's container by one from `image`: same id, name, ports and labels,
   * a fresh /workspace volume (Docker fills an empty volume with the image's /workspace). Holds the
   * reconcile lock meanwhile, so the moment without a container is not taken for a lost workspace.
   * Refused for a caller-named volume (it keeps its content, the image's would not show).
   */
  async recreateFrom(id: string, owner: string, image: string): Promise<void> {
    const record = await this.d.access.visible(id, owner);
    if (record.volumeName) throw new Error('a container with a named volume cannot be recreated from an image');
    const token = randomUUID();
    for (let i = 0; !(await this.d.store.tryLock(token, 60_000)); i++) {
      if (i > 100) throw new BerthError('SERVICE_UNAVAILABLE', 'reconcile is running; try again', { retryAfterSeconds: 2 });
      await sleep(100);
    }
    try {
      await this.removeContainer(id, record.ref);
      await this.d.driver.removeVolume(workspaceVolumeName(id));
      const disk = await this.freshDisk(id);
      // A fresh agent directory and listener: the old container's agent is gone with it.
      // Same workspace, same LLM key: it moves to the new directory.
      const llmKey = await this.d.llm.current(id);
      await this.d.agents?.remove(id);
      const agentDir = await this.d.agents?.create(id);
      await this.d.llm.restore(id, llmKey);
      // Its memory as claimed (a create's memoryMb); cpus are the pool's again (docs/limits.md).
      const pool = { ...this.d.pools.resolve(record.pool), memoryMb: record.memoryMb };
      // A disk-limited /workspace is its own filesystem: the image's tree is copied into it, not layered.
      const volumeReady = !disk && (await layerWorkspaceVolume(this.d.driver, this.d.config, id, image));
      const spec = buildWorkloadSpec(
        {
          id,
          name: this.d.names.claimed(id, record.owner),
          pool,
          image,
          ports: record.ports,
          volumeName: '',
          agentDir,
          owner: record.owner,
          disk,
          volumeReady,
        },
        this.d.config,
        this.d.host,
      );
      const ref = await this.d.driver.create(spec);
      await this.d.store.replaceContainer(id, ref, image);
    } finally {
      await this.d.store.unlock(token);
    }
  }

  /** A workspace with a disk of its own gets a new, empty one of the same size for its new volume. */
  private async freshDisk(id: string): Promise<{ device: string; mb: number } | undefined> {
    const mb = this.disks.has(id) ? await this.disks.sizeMb(id) : 0;
    if (!mb) return undefined;
    const disk = { device: await this.disks.create(id, mb), mb };
    await this.d.driver.ensureVolume(workspaceVolumeName(id), workspaceVolumeLabels(this.d.host.id, id), diskVolumeOptions(disk.device));
    return disk;
  }

  /**
   * Docker occasionally refuses a removal under load (a rename or kill in flight). One retry; if it
   * still fails the workspace stays `stopping` and reconcile finishes the job, ports held till then.
   */
  private async removeContainer(id: string, ref: string): Promise<void> {
    try {
      await this.d.driver.remove(ref);
    } catch (first) {
      this.d.logger.warn({ err: first, id }, 'container removal failed; retrying');
      await sleep(250);
      try {
        await this.d.driver.remove(ref);
      } catch (err) {
        this.d.logger.error({ err, id }, 'container removal failed; reconcile will retry');
        throw new BerthError('SERVICE_UNAVAILABLE', 'the container could not be removed yet; it will be removed shortly', { retryAfterSeconds: 2, cause: err });
      }
    }
  }
}
