import { setTimeout as sleep } from 'node:timers/promises';
import { BerthApiError, BerthNetworkError, BerthResponseError } from './errors.js';

export interface RetryPolicy {
  /** Total attempts, the first included; 1 means no retry. */
  attempts: number;
  /** First backoff; doubles each attempt, with jitter. */
  baseDelayMs: number;
  /** Longest wait between attempts; a Retry-After beyond it ends the retries. */
  maxDelayMs: number;
}

export const NO_RETRY: RetryPolicy = { attempts: 1, baseDelayMs: 200, maxDelayMs: 10_000 };
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 10_000 };

/** The client's policy, then the call's, over DEFAULT_RETRY: idempotent calls retry unless told not to. */
export function resolvePolicy(...layers: (Partial<RetryPolicy> | undefined)[]): RetryPolicy {
  const merged = Object.assign({}, ...layers.filter(Boolean)) as Partial<RetryPolicy>;
  return {
    attempts: Math.max(1, Math.floor(merged.attempts ?? DEFAULT_RETRY.attempts)),
    baseDelayMs: Math.max(0, merged.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs),
    maxDelayMs: Math.max(0, merged.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs),
  };
}

/** Statuses a proxy or load balancer in front of berth answers without a berth error body; worth another try. */
const RETRYABLE_STATUSES = [429, 503];

/**
 * How long to wait before the next attempt after `err`, or undefined when it must not be retried:
 * berth errors it marks retryable, a 429/503 from something in front of berth, and lost connections.
 */
export function retryDelay(err: unknown, attempt: number, policy: RetryPolicy, random = Math.random): number | undefined {
  if (attempt >= policy.attempts) return undefined;
  const retryable =
    err instanceof BerthApiError
      ? err.retryable
      : err instanceof BerthResponseError
        ? RETRYABLE_STATUSES.includes(err.status)
        : err instanceof BerthNetworkError;
  if (!retryable) return undefined;
  const retryAfter = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
  if (retryAfter !== undefined) {
    const ms = retryAfter * 1000;
    return ms <= policy.maxDelayMs ? ms : undefined;
  }
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(backoff / 2 + (random() * backoff) / 2);
}

/** Runs `attempt` until it succeeds or `retryDelay` says stop; waits end early with `signal`. */
export async function withRetry<T>(policy: RetryPolicy, signal: AbortSignal, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const delay = retryDelay(err, n, policy);
      if (delay === undefined) throw err;
      await sleep(delay, undefined, { signal });
    }
  }
}
