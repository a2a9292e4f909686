import { BerthError, type ContainerView, type PoolConfig } from '@berth/contracts';
import type { Logger } from '@berth/service-kit';
import type { AgentRegistry } from '../agent/agent-registry.js';
import type { PoolManagerConfig } from '../config.js';
import type { EventPublisher } from '../events.js';
import type { LlmKeys } from '../llm/llm-keys.js';
import type { PoolRegistry } from '../pools.js';
import { toView, type WorkspaceRecord } from '../state/workspace-record.js';
import type { WorkspaceStore } from '../state/workspace-store.js';
import type { WorkloadDriver } from '../driver/workload-driver.js';
import { isWorkloadError } from '../driver/workload-error.js';

/** The part of the workload driver pausing uses. */
type Freezer = Pick<WorkloadDriver, 'freeze' | 'thaw' | 'frozen'>;
import type { OnIdle, PausedStore, PauseSettings } from './paused-store.js';

export interface PausesDeps {
  store: WorkspaceStore;
  paused: PausedStore;
  freezer: Freezer;
  llm: LlmKeys;
  events: EventPublisher;
  pools: PoolRegistry;
  config: Pick<PoolManagerConfig, 'MAX_MEMORY_MB'>;
  logger: Logger;
  agents?: AgentRegistry | undefined;
}

const notFound = (id: string) => new BerthError('CONTAINER_NOT_FOUND', `no container ${id}`);

/**
 * Pause and resume of claimed workspaces. Paused: processes frozen, memory out of the host budget,
 * LLM key refused by egress; volume, ports, agent directory, setup and record kept. The state moves
 * in Redis first (atomically with the budget), then the engine: a crash in between leaves a record
 * `paused` over a running container, which a resume thaws harmlessly, never a frozen `claimed` one.
 * One pause or resume of a workspace at a time (per process; pool-manager is one per host).
 */
export class Pauses {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(private readonly d: PausesDeps) {}

  async pause(id: string, owner: string, reason = 'api'): Promise<ContainerView> {
    return this.serialised(id, async () => {
      const record = await this.visible(id, owner);
      if (record.state === 'paused') return toView(record);
      if (!(await this.d.paused.pause(id, owner, Date.now()))) throw notFound(id);
      try {
        await this.d.freezer.freeze(record.ref);
      } catch (err) {
        // Back to claimed unless it is being deleted meanwhile (then nothing is left to undo).
        await this.d.paused.resume(id, owner, Date.now(), 0, true);
        throw this.engineError(err, id);
      }
      await this.d.llm.suspend(id);
      this.d.events.publish(id, 'paused', record.pool, reason, { owner });
      return toView(await this.current(id));
    });
  }

  async resume(id: string, owner: string, reason = 'api'): Promise<ContainerView> {
    return this.serialised(id, async () => {
      const record = await this.visible(id, owner);
      if (record.state !== 'paused') return toView(record);
      const outcome = await this.d.paused.resume(id, owner, Date.now(), this.d.config.MAX_MEMORY_MB);
      if (outcome === 'capacity')
        throw new BerthError('CAPACITY_EXHAUSTED', 'the host has no memory left in its budget for this container now; retry', { retryAfterSeconds: 5 });
      if (outcome !== 'resumed') throw notFound(id);
      try {
        await this.d.freezer.thaw(record.ref);
      } catch (err) {
        if (!isWorkloadError(err, 'not_found')) await this.d.paused.pause(id, owner, Date.now());
        throw this.engineError(err, id);
      }
      // Paused through a pool-manager restart: this one never listened for its agent.
      if (this.d.agents && !this.d.agents.known(id)) await this.d.agents.adopt(id);
      await this.d.llm.reinstate(record);
      this.d.events.publish(id, 'resumed', record.pool, reason, { owner });
      return toView(await this.current(id));
    });
  }

  /**
   * Before a process starts in a caller's workspace (exec, stream, terminal, setup): a paused one
   * is resumed, or refused with CONTAINER_PAUSED when its caller turned autoResume off.
   */
  async ready(record: Pick<WorkspaceRecord, 'id' | 'owner' | 'state'>): Promise<void> {
    if (record.state !== 'paused') return;
    if ((await this.d.paused.settings(record.id)).autoResume === false) {
      throw new BerthError('CONTAINER_PAUSED', `container ${record.id} is paused; resume it first (POST /api/containers/${record.id}/resume)`);
    }
    await this.resume(record.id, record.owner, 'auto');
  }

  /** ready() for a caller's request that names a workspace by id. */
  async readyById(id: string, owner: string): Promise<void> {
    await this.ready(await this.visible(id, owner));
  }

  /** A workspace's own pause settings (PATCH); false when it is neither claimed nor paused. */
  async configure(id: string, settings: PauseSettings): Promise<boolean> {
    return this.d.paused.setSettings(id, settings);
  }

  /**
   * After reconcile at startup: a `claimed` record over a frozen container (its record was rebuilt
   * from Docker after a Redis loss) is paused again, its memory out of the budget. Its paused
   * retention starts now (when it was paused was in the lost record).
   */
  async recoverFrozen(hostId: string): Promise<number> {
    const frozen = await this.d.freezer.frozen(hostId);
    let recovered = 0;
    for (const id of frozen) {
      const r = await this.d.store.get(id);
      if (r?.state === 'claimed' && (await this.d.paused.pause(id, r.owner, Date.now()))) recovered += 1;
    }
    if (recovered > 0) this.d.logger.info({ recovered }, 'frozen workspaces recorded as paused again');
    return recovered;
  }

  /** What an idle workspace becomes: its own setting, else its pool's, else removal. */
  async onIdle(id: string): Promise<OnIdle> {
    const own = (await this.d.paused.settings(id)).onIdle;
    if (own) return own;
    const record = await this.d.store.get(id);
    return (record && this.poolOf(record)?.onIdle) ?? 'delete';
  }

  /** The idle reaper's pause: true when the workspace is paused now (false: it was not claimed any longer). */
  async pauseIdle(id: string): Promise<boolean> {
    const record = await this.d.store.get(id);
    if (record?.state !== 'claimed') return false;
    await this.pause(id, record.owner, 'idle');
    return true;
  }

  poolOf(record: Pick<WorkspaceRecord, 'pool'>): PoolConfig | undefined {
    return this.d.pools.has(record.pool) ? this.d.pools.resolve(record.pool) : undefined;
  }

  private engineError(err: unknown, id: string): unknown {
    return isWorkloadError(err, 'not_found') ? notFound(id) : err;
  }

  /** Claimed or paused, of this owner; anything else is indistinguishable from a missing workspace. */
  private async visible(id: string, owner: string): Promise<WorkspaceRecord> {
    const r = await this.d.store.get(id);
    if (!r || (r.state !== 'claimed' && r.state !== 'paused') || r.owner !== owner) throw notFound(id);
    return r;
  }

  private async current(id: string): Promise<WorkspaceRecord> {
    const r = await this.d.store.get(id);
    if (!r) throw notFound(id);
    return r;
  }

  private async serialised<T>(id: string, job: () => Promise<T>): Promise<T> {
    const before = this.inFlight.get(id) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(job);
    this.inFlight.set(id, run);
    try {
      return await run;
    } finally {
      if (this.inFlight.get(id) === run) this.inFlight.delete(id);
    }
  }
}
