import type { Logger } from '@berth/service-kit';
import type { PoolManagerConfig } from '../config.js';
import type { WorkloadDriver } from '../driver/workload-driver.js';
import type { EventPublisher } from '../events.js';
import type { WorkspaceStore } from '../state/workspace-store.js';
import type { Lifecycle } from '../workspaces/lifecycle.js';
import type { Activity } from './activity.js';
import { idleTimeoutMs, warningLeadMs } from './idle-timeout.js';

export interface IdleReport {
  warned: number;
  reaped: number;
}

type IdleConfig = Pick<PoolManagerConfig, 'IDLE_TTL_MS' | 'IDLE_TTL_MAX_MS' | 'IDLE_WARNING_MS' | 'IDLE_NET_MIN_BYTES' | 'RECONCILE_INTERVAL_MS'>;
type Verdict = 'wait' | 'active' | 'warn' | 'reap';
interface Candidate {
  id: string;
  lastActiveAt: number;
  idleTimeoutMs: number;
}

/**
 * Removes claimed workspaces nobody used for their idle timeout, announcing it with an `idle-warning`
 * event first. Besides commands (which touch the record), a workspace is in use while a command,
 * stream or terminal of it runs (Activity) and while its network counters move (dev-server traffic);
 * both are checked only near the deadline, so idle-free workspaces cost nothing.
 */
export class IdleReaper {
  /** id → the reapAt already announced, so each idle spell is warned about once. */
  private readonly warned = new Map<string, number>();
  /** id → network bytes at the previous check. */
  private readonly netBytes = new Map<string, number>();

  constructor(
    private readonly store: WorkspaceStore,
    private readonly driver: WorkloadDriver,
    private readonly lifecycle: Lifecycle,
    private readonly activity: Activity,
    private readonly events: EventPublisher,
    private readonly config: IdleConfig,
    private readonly logger: Logger,
  ) {}

  /** Decides for an idle workspace before its removal: true when it took care of it (paused it; pause/start-pauses.ts). */
  onIdle: (id: string) => Promise<boolean> = async () => false;

  async run(now = Date.now()): Promise<IdleReport> {
    const report: IdleReport = { warned: 0, reaped: 0 };
    if (this.config.IDLE_TTL_MS <= 0) return report;
    const candidates = await this.store.idleCandidates();
    const live = new Set(candidates.map((c) => c.id));
    for (const map of [this.warned, this.netBytes]) for (const id of map.keys()) if (!live.has(id)) map.delete(id);

    // Engine stats take about a second each: sample in parallel, act one by one.
    const verdicts = await Promise.all(candidates.map(async (c) => ({ c, verdict: await this.judge(c, now) })));
    for (const { c, verdict } of verdicts) {
      const reapAt = c.lastActiveAt + idleTimeoutMs(c.idleTimeoutMs, this.config);
      if (verdict === 'active') await this.activity.touch(c.id);
      else if (verdict === 'warn') {
        const record = await this.store.get(c.id);
        this.events.publish(c.id, 'idle-warning', record?.pool ?? '', 'idle', {
          reapAt: new Date(reapAt).toISOString(),
          ...(record?.owner && { owner: record.owner }),
        });
        this.warned.set(c.id, reapAt);
        report.warned += 1;
      } else if (verdict === 'reap' && (await this.stillIdle(c))) {
        if (!(await this.onIdle(c.id))) await this.lifecycle.stop(c.id, 'idle', { onlyIf: 'claimed' });
        report.reaped += 1;
      }
    }
    return report;
  }

  private async judge(c: Candidate, now: number): Promise<Verdict> {
    const reapAt = c.lastActiveAt + idleTimeoutMs(c.idleTimeoutMs, this.config);
    const warnAt = reapAt - warningLeadMs(reapAt - c.lastActiveAt, this.config);
    // Network counters are sampled from one tick before the warning on, so a baseline exists by then.
    if (now < warnAt - this.config.RECONCILE_INTERVAL_MS) {
      this.netBytes.delete(c.id);
      return 'wait';
    }
    if (this.activity.busy(c.id)) return 'active';
    const traffic = await this.trafficSincePreviousCheck(c.id);
    if (traffic === 'moved') return 'active';
    // No baseline yet (e.g. pool-manager restarted): decide at the next tick.
    if (traffic === 'first') return 'wait';
    if (now >= reapAt) return 'reap';
    if (now >= warnAt && this.warned.get(c.id) !== reapAt) return 'warn';
    return 'wait';
  }

  private async trafficSincePreviousCheck(id: string): Promise<'moved' | 'still' | 'first'> {
    const record = await this.store.get(id);
    let bytes: number;
    try {
      if (!record?.ref) return 'still';
      const u = await this.driver.usage(record.ref);
      bytes = u.netRxBytes + u.netTxBytes;
    } catch (err) {
      // No counters (container gone or engine busy): judge by the other signs; reconcile handles a gone one.
      this.logger.debug({ err, id }, 'network counters unavailable');
      return 'still';
    }
    const before = this.netBytes.get(id);
    this.netBytes.set(id, bytes);
    if (before === undefined) return 'first';
    return bytes - before >= this.config.IDLE_NET_MIN_BYTES ? 'moved' : 'still';
  }

  /** Nothing happened while the others were judged (a touch moves lastActiveAt; a hold is in memory). */
  private async stillIdle(c: Candidate): Promise<boolean> {
    return !this.activity.busy(c.id) && (await this.store.lastActiveAt(c.id)) === c.lastActiveAt;
  }
}
