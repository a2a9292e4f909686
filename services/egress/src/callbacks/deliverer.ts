import { callbackEventId, type SetupStatus } from '@berth/contracts';
import type { Logger } from '@berth/service-kit';
import type { Registration } from './registrations.js';
import type { Attempt, AttemptResult } from './send.js';

export type Outcome = 'delivered' | 'gave_up' | 'skipped' | 'stopped';

export interface DelivererOptions {
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Where registrations come from; throws when the store is unreachable (then retried). */
  lookup: (id: string) => Promise<Registration | undefined>;
  send: (a: Attempt, signal: AbortSignal) => Promise<AttemptResult>;
  onAttempt?: (ok: boolean) => void;
  random?: () => number;
}

/** Exponential backoff with equal jitter: half the step fixed, half random, capped at `maxMs`. */
export function backoffMs(failedAttempts: number, baseMs: number, maxMs: number, random = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** (failedAttempts - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Resolves after `ms`, or false at once when `signal` aborts. */
export async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  return new Promise((resolve) => {
    const done = (v: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort);
  });
}

/** Delivers one status to its workspace's registration: attempts, backoff, give up. */
export class Deliverer {
  constructor(
    private readonly opts: DelivererOptions,
    private readonly logger: Logger,
  ) {}

  async deliver(status: SetupStatus, signal: AbortSignal): Promise<Outcome> {
    const reg = await this.registration(status.id, signal);
    if (reg === 'stopped') return 'stopped';
    if (!reg) return 'skipped';
    const body = JSON.stringify(status);
    const eventId = callbackEventId(status);
    const { maxAttempts, retryBaseMs, retryMaxMs } = this.opts;
    let last = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const result = await this.opts.send({ url: reg.url, secret: reg.secret, body, eventId, attempt }, signal).catch((err: unknown) => {
        this.logger.error({ id: status.id, seq: status.seq, err: (err as Error).message }, 'callback attempt crashed');
        return { ok: false, reason: 'internal error' } as const;
      });
      if (signal.aborted) return 'stopped';
      this.opts.onAttempt?.(result.ok);
      if (result.ok) {
        this.logger.info({ id: status.id, seq: status.seq, phase: status.phase, attempt, status: result.status }, 'callback delivered');
        return 'delivered';
      }
      last = result.reason;
      if (attempt === maxAttempts) break;
      const wait = backoffMs(attempt, retryBaseMs, retryMaxMs, this.opts.random);
      this.logger.warn({ id: status.id, seq: status.seq, attempt, reason: last, retryInMs: wait }, 'callback attempt failed');
      if (!(await sleep(wait, signal))) return 'stopped';
    }
    this.logger.error({ id: status.id, seq: status.seq, phase: status.phase, attempts: maxAttempts, reason: last }, 'callback given up');
    return 'gave_up';
  }

  /** The registration; a store outage is waited out (it is not the receiver's failed attempt). */
  private async registration(id: string, signal: AbortSignal): Promise<Registration | undefined | 'stopped'> {
    for (let tries = 1; ; tries++) {
      try {
        return await this.opts.lookup(id);
      } catch (err) {
        this.logger.warn({ id, err: (err as Error).message }, 'callback registration lookup failed; retrying');
        if (!(await sleep(backoffMs(tries, 200, 5_000, this.opts.random), signal))) return 'stopped';
      }
    }
  }
}
