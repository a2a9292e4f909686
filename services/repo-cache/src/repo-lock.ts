import { randomBytes } from 'node:crypto';
import { BerthError } from '@berth/contracts';
import type { Redis } from '@berth/service-kit';

// Deletes or extends the lock only while it still holds our value (another holder's lock is untouched).
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
// A fencing counter lost with Redis data restarts above the fence the mirror last recorded.
const RAISE = `local v = redis.call('INCR', KEYS[1]) local floor = tonumber(ARGV[1]) if v <= floor then v = floor + 1 redis.call('SET', KEYS[1], v) end return v`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

export interface LockOptions {
  ttlMs: number;
  waitMs: number;
  /** Poll interval while another process holds the lock. */
  pollMs?: number;
}

/**
 * A held per-repo lock. `fence` comes from a counter incremented on every acquisition, so a later
 * holder always has a larger one; `stillHeld()` is checked before the mirror is changed.
 */
export class HeldLock {
  private timer: NodeJS.Timeout | undefined;
  private readonly lost = new AbortController();

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly value: string,
    private fenceValue: number,
    private readonly fenceKey: string,
    private readonly ttlMs: number,
  ) {}

  get fence(): number {
    return this.fenceValue;
  }

  /** Takes a fence above `floor` (the one the mirror recorded) when the counter is behind it. */
  async raiseFenceAbove(floor: number): Promise<void> {
    if (this.fenceValue > floor) return;
    this.fenceValue = Number(await this.redis.eval(RAISE, 1, this.fenceKey, String(floor)));
  }

  /** Aborted when a renewal finds the lock gone (expired and maybe taken by another process). */
  get signal(): AbortSignal {
    return this.lost.signal;
  }

  startRenewing(): void {
    this.timer = setInterval(
      () => {
        this.redis.eval(RENEW, 1, this.key, this.value, String(this.ttlMs)).then(
          (ok) => {
            if (ok !== 1) this.lose();
          },
          () => undefined, // Redis blip: the next renewal retries; the lock lives ttlMs.
        );
      },
      Math.max(50, Math.floor(this.ttlMs / 3)),
    );
    this.timer.unref();
  }

  async stillHeld(): Promise<boolean> {
    if (this.lost.signal.aborted) return false;
    const held = (await this.redis.get(this.key)) === this.value;
    if (!held) this.lose();
    return held;
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.eval(RELEASE, 1, this.key, this.value).catch(() => undefined);
  }

  private lose(): void {
    clearInterval(this.timer);
    this.lost.abort(new BerthError('UPSTREAM_UNAVAILABLE', 'lost the repository lock', { retryAfterSeconds: 1 }));
  }
}

/** `SET key value NX PX` locks, one per repo and host, with a fencing counter beside each. */
export class RepoLocks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly opts: LockOptions,
  ) {}

  lockKey(repo: string): string {
    return `${this.prefix}:lock:${repo}`;
  }

  /** Waits until the lock of `repo` is free and takes it; TIMEOUT after `waitMs`. */
  async acquire(repo: string): Promise<HeldLock> {
    const key = this.lockKey(repo);
    const deadline = Date.now() + this.opts.waitMs;
    const poll = this.opts.pollMs ?? 100;
    for (;;) {
      const value = randomBytes(12).toString('hex');
      if ((await this.redis.set(key, value, 'PX', this.opts.ttlMs, 'NX')) === 'OK') {
        const fenceKey = `${this.prefix}:fence:${repo}`;
        const lock = new HeldLock(this.redis, key, value, await this.redis.incr(fenceKey), fenceKey, this.opts.ttlMs);
        lock.startRenewing();
        return lock;
      }
      if (Date.now() >= deadline) throw new BerthError('TIMEOUT', `another fetch of ${repo} is still running`);
      await new Promise((r) => setTimeout(r, poll));
    }
  }
}
