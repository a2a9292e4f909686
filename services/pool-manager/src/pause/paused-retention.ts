import type { Logger } from '@berth/service-kit';
import type { PoolManagerConfig } from '../config.js';
import type { EventPublisher } from '../events.js';
import type { WorkspaceStore } from '../state/workspace-store.js';
import type { Lifecycle } from '../workspaces/lifecycle.js';
import type { PausedStore } from './paused-store.js';
import type { Pauses } from './pauses.js';

type RetentionConfig = Pick<PoolManagerConfig, 'PAUSED_RETENTION_MS' | 'IDLE_WARNING_MS'>;

/**
 * Removes workspaces paused for longer than their retention (the pool's pausedRetentionSeconds, else
 * PAUSED_RETENTION_MS; 0 keeps them), always with a `retention-warning` event (with `reapAt`) at an
 * earlier check than the removal, so a caller hears it even after pool-manager was down past the deadline.
 */
export class PausedRetention {
  /** id → the removal time already announced. */
  private readonly warned = new Map<string, number>();

  constructor(
    private readonly store: WorkspaceStore,
    private readonly paused: PausedStore,
    private readonly pauses: Pauses,
    private readonly lifecycle: Lifecycle,
    private readonly events: EventPublisher,
    private readonly config: RetentionConfig,
    private readonly logger: Logger,
  ) {}

  async run(now = Date.now()): Promise<{ warned: number; removed: number }> {
    const report = { warned: 0, removed: 0 };
    const paused = (await this.store.all()).filter((r) => r.state === 'paused');
    const live = new Set(paused.map((r) => r.id));
    for (const id of this.warned.keys()) if (!live.has(id)) this.warned.delete(id);
    for (const r of paused) {
      const retention = (this.pauses.poolOf(r)?.pausedRetentionSeconds ?? 0) * 1000 || this.config.PAUSED_RETENTION_MS;
      const pausedAt = await this.paused.pausedAt(r.id);
      if (retention <= 0 || pausedAt === undefined) continue;
      const removeAt = pausedAt + retention;
      const warnAt = removeAt - Math.min(this.config.IDLE_WARNING_MS, Math.floor(retention / 2));
      if (now < warnAt) continue;
      if (this.warned.get(r.id) !== removeAt) {
        this.events.publish(r.id, 'retention-warning', r.pool, 'paused-retention', { owner: r.owner, reapAt: new Date(removeAt).toISOString() });
        this.warned.set(r.id, removeAt);
        report.warned += 1;
      } else if (now >= removeAt) {
        await this.lifecycle.stop(r.id, 'paused-retention', { onlyIf: 'paused' }).then(
          () => {
            report.removed += 1;
          },
          (err: unknown) => this.logger.warn({ err, id: r.id }, 'paused workspace not removed; retried at the next check'),
        );
      }
    }
    return report;
  }
}
