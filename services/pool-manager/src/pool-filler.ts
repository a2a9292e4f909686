import { BerthError, type PoolConfig } from '@berth/contracts';
import type { Logger } from '@berth/service-kit';
import type { WorkloadNames } from './driver/workload-names.js';
import type { PoolImages } from './pool-image.js';
import type { PoolRegistry } from './pools.js';
import type { Provisioner } from './provisioner.js';
import type { WorkspaceStore } from './state/workspace-store.js';

export interface PoolCounts {
  warm: number;
  creating: number;
  claimed: number;
}

export async function countByPool(store: WorkspaceStore): Promise<Map<string, PoolCounts>> {
  const counts = new Map<string, PoolCounts>();
  for (const r of await store.all()) {
    const c = counts.get(r.pool) ?? { warm: 0, creating: 0, claimed: 0 };
    if (r.state === 'warm' || r.state === 'creating' || r.state === 'claimed') c[r.state] += 1;
    counts.set(r.pool, c);
  }
  return counts;
}

/**
 * Keeps every pool at its target of warm containers, never more than `maxCreating` being
 * created at once per pool. Kicks are coalesced: one fill runs per pool, and a kick during a
 * run makes it run once more.
 */
export class PoolFiller {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly delayed = new Map<string, { timer: NodeJS.Timeout; firstAt: number }>();
  private stopped = false;

  constructor(
    private readonly store: WorkspaceStore,
    private readonly pools: PoolRegistry,
    private readonly provisioner: Provisioner,
    private readonly logger: Logger,
    private readonly names: WorkloadNames,
    private readonly images?: PoolImages,
  ) {}

  /**
   * Schedules a fill once claims of this pool have paused for `delayMs` (at most 8 × `delayMs`
   * after the first kick), so a burst of claims is answered before Docker starts creating
   * replacements on the same cores.
   */
  kickSoon(pool: string, delayMs: number): void {
    if (this.stopped) return;
    const now = Date.now();
    const pending = this.delayed.get(pool);
    if (pending) clearTimeout(pending.timer);
    const firstAt = pending?.firstAt ?? now;
    const timer = setTimeout(
      () => {
        this.delayed.delete(pool);
        this.kick(pool);
      },
      Math.max(0, Math.min(delayMs, firstAt + 8 * delayMs - now)),
    );
    timer.unref();
    this.delayed.set(pool, { timer, firstAt });
  }

  kick(pool: string): void {
    if (this.stopped || !this.pools.has(pool)) return;
    if (this.running.has(pool)) {
      this.again.add(pool);
      return;
    }
    const run = this.fill(this.pools.resolve(pool))
      .catch((err: unknown) => this.logger.warn({ err, pool }, 'pool fill failed'))
      .finally(() => {
        this.running.delete(pool);
        if (this.again.delete(pool)) this.kick(pool);
      });
    this.running.set(pool, run);
  }

  /** A fill is running or scheduled. */
  get busy(): boolean {
    return this.running.size > 0 || this.delayed.size > 0;
  }

  /** Pools below their minimum first, then the rest. */
  kickAll(): void {
    void countByPool(this.store)
      .then((counts) => {
        const below = (p: PoolConfig) => (counts.get(p.name)?.warm ?? 0) < p.minSize;
        for (const p of [...this.pools.list.filter(below), ...this.pools.list.filter((p) => !below(p))]) this.kick(p.name);
      })
      .catch((err: unknown) => this.logger.warn({ err }, 'pool fill failed'));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.delayed.values()) clearTimeout(d.timer);
    await Promise.allSettled([...this.running.values()]);
  }

  private async fill(pool: PoolConfig): Promise<void> {
    const mine = (await this.store.all()).filter((r) => r.pool === pool.name);
    const warm = mine.filter((r) => r.state === 'warm').length;
    // Only fills become warm; a cold create for a caller (requestId set) is 'creating' too but ends claimed.
    const creating = mine.filter((r) => r.state === 'creating' && r.requestId === '').length;
    const deficit = pool.targetSize - warm - creating;
    const starts = Math.min(deficit, pool.maxCreating - creating);
    if (starts <= 0 || this.stopped) return;
    const image = this.images ? await this.images.imageFor(pool) : pool.image;
    if (image === undefined) return;
    const results = await Promise.allSettled(
      Array.from({ length: starts }, () =>
        this.provisioner.provision({
          pool,
          image,
          containerPorts: pool.containerPorts,
          volumeName: '',
          requestId: '',
          owner: '',
          name: '',
          engineName: (id) => this.names.warm(id),
        }),
      ),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    const outOfRoom = failed.some((r) => r.reason instanceof BerthError && (r.reason.code === 'CAPACITY_EXHAUSTED' || r.reason.code === 'PORTS_EXHAUSTED'));
    if (failed.length && !outOfRoom) throw failed[0]!.reason;
    // Keep going until the target is met, unless the host is full (reconcile retries later).
    if (!outOfRoom && starts < deficit) this.again.add(pool.name);
  }
}
