import { BerthError, RESERVED_VOLUME_PREFIX, VOLUME_KINDS, VOLUME_LABELS, type VolumeList } from '@berth/contracts';
import type { Logger } from '@berth/service-kit';
import { isWorkloadError } from '../driver/workload-error.js';
import type { PoolManagerConfig } from '../config.js';
import type { VolumeInfo, WorkloadDriver } from '../driver/workload-driver.js';
import {
  labelsMatch,
  npmCacheVolumeName,
  NPM_CACHE_TARGET,
  OWNER_VOLUME_TARGET,
  ownerVolumeLabels,
  ownerVolumeName,
  type VolumeMount,
} from './volume-names.js';
import { makeWorkspaceOwned } from './workspace-owned.js';

type Config = Pick<PoolManagerConfig, 'BERTH_HOST_ID' | 'MAX_VOLUMES_PER_OWNER' | 'NPM_CACHE_VOLUME' | 'SETUP_TASK_IMAGE'>;

/**
 * The volumes berth keeps for an owner: their named volumes (`volumeName`) and their npm cache.
 * Whether a volume is the owner's is decided by the engine after the fact: create (idempotent for
 * an existing name), then read its labels back and refuse unless they name berth and this owner.
 */
export class OwnerVolumes {
  /** npm caches made writable for the workspace user by this process. */
  private readonly preparedCaches = new Set<string>();
  /** One create or delete at a time per owner, so the count limit holds under concurrent creates. */
  private readonly ownerQueue = new Map<string, Promise<unknown>>();

  constructor(
    private readonly driver: WorkloadDriver,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  /** The owner's volume called `name`, made now if it is new; VOLUME_NOT_ALLOWED for anything else. */
  async resolve(owner: string, name: string): Promise<VolumeMount> {
    if (name.toLowerCase().startsWith(RESERVED_VOLUME_PREFIX)) {
      throw new BerthError('VOLUME_NOT_ALLOWED', `volume names starting with ${RESERVED_VOLUME_PREFIX} are berth's own`);
    }
    const host = this.config.BERTH_HOST_ID;
    const source = ownerVolumeName(host, owner, name);
    const labels = ownerVolumeLabels(host, owner, 'owner', name);
    return this.serially(owner, async () => {
      const mine = await this.ownVolumes(owner);
      if (!mine.some((v) => v.name === source) && mine.length >= this.config.MAX_VOLUMES_PER_OWNER) {
        throw new BerthError(
          'VOLUME_LIMIT_REACHED',
          `this owner has ${mine.length} volumes, the limit is ${this.config.MAX_VOLUMES_PER_OWNER}; delete one first`,
        );
      }
      const made = await this.driver.createVolume(source, labels);
      if (!labelsMatch(made.labels, labels)) {
        this.logger.warn({ volume: source }, 'volume of an owner exists without its labels; refused');
        throw new BerthError('VOLUME_NOT_ALLOWED', `volume ${name} cannot be used`);
      }
      return { source, target: OWNER_VOLUME_TARGET, labels };
    });
  }

  /** The owner's npm cache, writable by the workspace user; undefined when caches are off. */
  async npmCache(owner: string): Promise<VolumeMount | undefined> {
    const prefix = this.config.NPM_CACHE_VOLUME;
    if (!prefix) return undefined;
    const host = this.config.BERTH_HOST_ID;
    const source = npmCacheVolumeName(prefix, host, owner);
    const labels = ownerVolumeLabels(host, owner, 'npmCache');
    const made = await this.driver.createVolume(source, labels);
    if (!labelsMatch(made.labels, labels)) {
      // Someone else's volume under this name: go without a cache rather than share it.
      this.logger.warn({ volume: source }, 'npm cache volume exists without its labels; workspace made without a cache');
      return undefined;
    }
    if (!this.preparedCaches.has(source)) {
      try {
        await makeWorkspaceOwned(this.driver, this.config, source);
      } catch (err) {
        this.logger.warn({ err, volume: source }, 'npm cache volume not prepared; workspace made without a cache');
        return undefined;
      }
      this.preparedCaches.add(source);
    }
    return { source, target: NPM_CACHE_TARGET, labels };
  }

  async list(owner: string): Promise<VolumeList> {
    const mine = await this.ownVolumes(owner);
    const used = await this.driver.volumesInUse(mine.map((v) => v.name));
    const volumes = mine
      .map((v) => ({ name: v.labels[VOLUME_LABELS.name] ?? '', createdAt: v.createdAt, inUse: used.has(v.name) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return { volumes, count: volumes.length, limit: this.config.MAX_VOLUMES_PER_OWNER };
  }

  /** Removes one of the owner's volumes; VOLUME_IN_USE while any container mounts it (the engine says). */
  async remove(owner: string, name: string): Promise<void> {
    const source = ownerVolumeName(this.config.BERTH_HOST_ID, owner, name);
    await this.serially(owner, async () => {
      const found = (await this.ownVolumes(owner)).find((v) => v.name === source);
      if (!found) throw new BerthError('VOLUME_NOT_FOUND', `no volume ${name}`);
      try {
        await this.driver.removeVolume(source);
      } catch (err) {
        if (isWorkloadError(err, 'conflict')) throw new BerthError('VOLUME_IN_USE', `volume ${name} is mounted by a container; delete the container first`);
        throw err;
      }
    });
  }

  /** The owner's named volumes on this host, as the engine lists them by their labels. */
  private async ownVolumes(owner: string): Promise<VolumeInfo[]> {
    const wanted = ownerVolumeLabels(this.config.BERTH_HOST_ID, owner, 'owner');
    const listed = await this.driver.listVolumesLabelled(wanted);
    // The engine's label filter is the query; this is the check (an owner label with `=` in it).
    return listed.filter((v) => labelsMatch(v.labels, wanted) && v.labels[VOLUME_LABELS.kind] === VOLUME_KINDS.owner);
  }

  private serially<T>(owner: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.ownerQueue.get(owner) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    const settled = next.catch(() => undefined);
    this.ownerQueue.set(owner, settled);
    void settled.then(() => {
      if (this.ownerQueue.get(owner) === settled) this.ownerQueue.delete(owner);
    });
    return next;
  }
}
