import { BerthError } from '@berth/contracts';
import type { Redis } from '@berth/service-kit';
import { FENCE } from '../state/lua.js';
import type { WorkspaceStore } from '../state/workspace-store.js';
import { PAUSE, RESUME, SET_PAUSE_SETTINGS } from './pause-lua.js';

export type OnIdle = 'pause' | 'delete';
export type ResumeOutcome = 'resumed' | 'capacity' | 'state';

/** A workspace's own pause settings (PATCH); absent: its pool's, then the host's. */
export interface PauseSettings {
  onIdle?: OnIdle;
  autoResume?: boolean;
}

type Scripted = Redis & Record<'berthPause' | 'berthResume', (...args: (string | number)[]) => Promise<unknown>>;

/** The paused side of a workspace's record: its state moves, pausedAt, and its pause settings. */
export class PausedStore {
  private readonly redis: Scripted;

  constructor(
    redis: Redis,
    private readonly store: WorkspaceStore,
  ) {
    if (!('berthPause' in redis)) redis.defineCommand('berthPause', { numberOfKeys: 0, lua: FENCE + PAUSE });
    if (!('berthResume' in redis)) redis.defineCommand('berthResume', { numberOfKeys: 0, lua: FENCE + RESUME });
    this.redis = redis as Scripted;
  }

  /** claimed → paused for its owner; false when it is not (any longer) a claimed workspace of `owner`. */
  async pause(id: string, owner: string, now: number): Promise<boolean> {
    return (await this.fenced(() => this.redis.berthPause(this.store.keys.prefix, id, owner, now, this.store.currentEpoch))) === 1;
  }

  async resume(id: string, owner: string, now: number, maxMemoryMb: number, force = false): Promise<ResumeOutcome> {
    return (await this.fenced(() =>
      this.redis.berthResume(this.store.keys.prefix, id, owner, now, maxMemoryMb, force ? '1' : '0', this.store.currentEpoch),
    )) as ResumeOutcome;
  }

  async pausedAt(id: string): Promise<number | undefined> {
    const v = await this.redis.hget(this.store.keys.workspace(id), 'pausedAt');
    return v ? Number(v) : undefined;
  }

  async settings(id: string): Promise<PauseSettings> {
    const [onIdle, autoResume] = await this.redis.hmget(this.store.keys.workspace(id), 'onIdle', 'autoResume');
    return {
      ...((onIdle === 'pause' || onIdle === 'delete') && { onIdle }),
      ...(autoResume !== null && { autoResume: autoResume === '1' }),
    };
  }

  /** False when the workspace is neither claimed nor paused (nothing written). */
  async setSettings(id: string, s: PauseSettings): Promise<boolean> {
    const pairs = [...(s.onIdle ? ['onIdle', s.onIdle] : []), ...(s.autoResume !== undefined ? ['autoResume', s.autoResume ? '1' : '0'] : [])];
    if (pairs.length === 0) return true;
    return (await this.redis.eval(SET_PAUSE_SETTINGS, 1, this.store.keys.workspace(id), ...pairs)) === 1;
  }

  private async fenced(call: () => Promise<unknown>): Promise<unknown> {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof Error) || !err.message.includes('BERTH_FENCED')) throw err;
      throw new BerthError('SERVICE_UNAVAILABLE', 'this pool-manager was superseded; retry', { retryAfterSeconds: 1, cause: err });
    }
  }
}
