import { WORKLOAD_LABELS } from '@berth/contracts';
import { randomUUID } from 'node:crypto';
import type { Logger } from '@berth/service-kit';
import type { AgentRegistry } from './agent/agent-registry.js';
import type { PoolManagerConfig } from './config.js';
import { type WorkloadDriver, type WorkloadInfo } from './driver/workload-driver.js';
import { isClaimMarked, type WorkloadNames } from './driver/workload-names.js';
import type { IdleReaper } from './idle/idle-reaper.js';
import type { LlmKeys } from './llm/llm-keys.js';
import type { PoolFiller } from './pool-filler.js';
import type { PoolRegistry } from './pools.js';
import type { WorkspaceRecord } from './state/workspace-record.js';
import type { WorkspaceStore } from './state/workspace-store.js';
import type { Host } from './host.js';
import type { Lifecycle } from './workspaces/lifecycle.js';
import { DiskImages } from './disk/disk-images.js';

export interface ReconcileReport {
  releasedRecords: number;
  removedOrphans: number;
  restoredClaims: number;
  resumed: number;
  reaped: number;
  idleWarned: number;
  removedVolumes: number;
}

/**
 * Docker is the truth. Records without a container are released, containers without a record are
 * removed (or, when their name marks a claim, restored so a Redis loss never hands them out again),
 * Redis' derived sets are rebuilt, idle claims reaped and pools refilled.
 */
export class Reconciler {
  private readonly disks: DiskImages;

  constructor(
    private readonly store: WorkspaceStore,
    private readonly driver: WorkloadDriver,
    private readonly pools: PoolRegistry,
    private readonly lifecycle: Lifecycle,
    private readonly filler: PoolFiller,
    private readonly config: PoolManagerConfig,
    private readonly host: Host,
    private readonly logger: Logger,
    private readonly llm: LlmKeys,
    private readonly names: WorkloadNames,
    private readonly idle: IdleReaper,
    private readonly agents?: AgentRegistry,
  ) {
    this.disks = new DiskImages(config);
  }

  /**
   * `startup`: nothing of this host is in flight (one pool-manager per host), so half-done
   * creates and deletes left by a crashed predecessor are finished at once instead of after the grace.
   */
  async run(startup = false): Promise<ReconcileReport | undefined> {
    const token = randomUUID();
    if (!(await this.store.tryLock(token, 60_000))) return undefined;
    let report: ReconcileReport;
    try {
      report = await this.reconcile(startup);
    } finally {
      await this.store.unlock(token);
    }
    // Outside the lock: egress learns the keys of the workspaces that are claimed now.
    await this.llm.sync().catch((err: unknown) => this.logger.warn({ err }, 'LLM key sync failed'));
    return report;
  }

  private async reconcile(startup: boolean): Promise<ReconcileReport> {
    const report: ReconcileReport = { releasedRecords: 0, removedOrphans: 0, restoredClaims: 0, resumed: 0, reaped: 0, idleWarned: 0, removedVolumes: 0 };
    const now = Date.now();
    const containers = await this.driver.list(this.host.id);
    const records = new Map((await this.store.all()).map((r) => [r.id, r]));
    const seen = new Map(containers.map((c) => [c.id, c]));

    for (const r of records.values()) {
      if (seen.has(r.id)) continue;
      // A young record may belong to a container created after the listing above.
      if (!startup && now - r.createdAt < this.config.CREATE_GRACE_MS) continue;
      await this.lifecycle.stop(r.id, 'container gone', { onlyIf: r.state });
      report.releasedRecords += 1;
    }
    for (const c of containers) {
      const r = records.get(c.id);
      if (!r) {
        if (isClaimMarked(c.name) && c.running && this.pools.has(c.labels[WORKLOAD_LABELS.pool] ?? '')) {
          await this.store.restore(restoredClaim(c, now, this.names));
          report.restoredClaims += 1;
        } else {
          await this.driver.remove(c.ref);
          await this.llm.forget(c.id, isClaimMarked(c.name));
          report.removedOrphans += 1;
        }
        continue;
      }
      if (r.state === 'warm' && c.running && isClaimMarked(c.name)) {
        // Only a claim writes the marker: Redis lost an acknowledged claim (killed before its AOF write
        // reached the file). The marker wins, as after a Redis loss, or the claim would be handed out again.
        await this.store.restore(restoredClaim(c, now, this.names));
        report.restoredClaims += 1;
        continue;
      }
      const abandoned = (r.state === 'creating' || r.state === 'stopping') && (startup || now - r.createdAt >= this.config.CREATE_GRACE_MS);
      if (abandoned && r.state === 'creating' && c.running && (await this.store.markReady(r.id, c.ref))) {
        // Its creator died after starting the container: finish the job (warm, or claimed for the
        // request that a retry with the same requestId will now receive).
        report.resumed += 1;
        continue;
      }
      // A container of a live create is briefly not running (between create and start).
      const unusable = !c.running && (r.state === 'warm' || (r.state === 'creating' && abandoned));
      const poolGone = r.state === 'warm' && !this.pools.has(r.pool);
      if (unusable || poolGone || abandoned) {
        const reason = poolGone ? 'pool removed' : abandoned ? 'abandoned' : 'not running';
        await this.lifecycle.stop(r.id, reason, { ref: c.ref, onlyIf: r.state });
        report.removedOrphans += 1;
      } else if (r.state === 'claimed' && c.name !== this.names.claimed(c.id, r.owner)) {
        // A missed claim rename, or a marker of an older format (which carried id and owner in the clear).
        await this.driver.rename(c.ref, this.names.claimed(c.id, r.owner)).catch(() => undefined);
      }
    }
    // After a pool-manager start: listen again for every workspace that is still there.
    for (const c of containers) {
      if (!this.agents || !c.running || this.agents.known(c.id)) continue;
      const r = await this.store.get(c.id);
      if (r && r.state !== 'stopping') await this.agents.adopt(c.id);
    }
    await this.store.rebuild(this.pools.list.map((p) => p.name));
    const idle = await this.idle.run(now);
    report.reaped = idle.reaped;
    report.idleWarned = idle.warned;
    report.removedVolumes = await this.removeOrphanVolumes();
    this.filler.kickAll();
    if (Object.values(report).some((n) => n > 0)) this.logger.info(report, 'reconciled');
    return report;
  }

  /** Workspace volumes whose workspace has neither a container nor a record (removed out of band). */
  private async removeOrphanVolumes(): Promise<number> {
    const host = this.host.id;
    // Volumes first: a workspace created after this listing is not in it, and one created before
    // already has its record (records precede containers and their volumes).
    const volumes = await this.driver.listVolumes(host);
    const diskIds = await this.disks.list();
    const agentIds = (await this.agents?.list()) ?? [];
    const live = new Set([...(await this.driver.list(host)).map((c) => c.id), ...(await this.store.all()).map((r) => r.id)]);
    let removed = 0;
    const volumeKept = new Set(volumes.filter((v) => live.has(v.id)).map((v) => v.id));
    for (const v of volumes.filter((v) => !live.has(v.id))) {
      await this.driver.removeVolume(v.name).then(
        () => {
          removed += 1;
        },
        (err: unknown) => {
          volumeKept.add(v.id);
          this.logger.warn({ err, volume: v.name }, 'orphan volume not removed');
        },
      );
    }
    // Disks likewise, once no volume names their loop device (disk/disk-images.ts).
    for (const id of diskIds.filter((id) => !live.has(id) && !volumeKept.has(id))) {
      await this.disks.remove(id).catch((err: unknown) => this.logger.warn({ err, id }, 'orphan disk not removed'));
    }
    // Agent directories the same way: listed before `live`, so a new workspace's is never taken.
    for (const id of agentIds.filter((id) => !live.has(id))) {
      await this.agents?.remove(id).catch((err: unknown) => this.logger.warn({ err, id }, 'orphan agent directory not removed'));
    }
    return removed;
  }
}

function restoredClaim(c: WorkloadInfo, now: number, names: WorkloadNames): WorkspaceRecord {
  return {
    id: c.id,
    ref: c.ref,
    pool: c.labels[WORKLOAD_LABELS.pool] ?? '',
    image: c.labels[WORKLOAD_LABELS.image] ?? '',
    state: 'claimed',
    // Label for a cold create, claim marker name for a claimed warm container; a marker from before
    // owners were recorded (no owner in it) belonged to the only owner there was then.
    owner: c.labels[WORKLOAD_LABELS.owner] ?? names.ownerOf(c.name, c.id) ?? 'default',
    name: '',
    requestId: '',
    ports: JSON.parse(c.labels[WORKLOAD_LABELS.ports] ?? '{}') as Record<string, number>,
    memoryMb: Number(c.labels[WORKLOAD_LABELS.memoryMb] ?? 0),
    volumeName: c.labels[WORKLOAD_LABELS.volume] ?? '',
    createdAt: c.createdAtMs,
    claimedAt: now,
    lastActiveAt: now,
  };
}
