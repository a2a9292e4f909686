import { setTimeout as sleep } from 'node:timers/promises';
import { BerthApiError, BerthNetworkError } from './errors.js';

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

export function resolvePolicy(...layers: (Partial<RetryPolicy> | undefined)[]): RetryPolicy {
  const merged = Object.assign({}, ...layers.filter(Boolean)) as Partial<RetryPolicy>;
  const base = layers.some((l) => l !== undefined) ? DEFAULT_RETRY : NO_RETRY;
  return {
    attempts: Math.max(1, Math.floor(merged.attempts ?? base.attempts)),
    baseDelayMs: Math.max(0, merged.baseDelayMs ?? base.baseDelayMs),
    maxDelayMs: Math.max(0, merged.maxDelayMs ?? base.maxDelayMs),
  };
}

/** How long to wait before the next attempt after `err`, or undefined when it must not be retried. */
export function retryDelay(err: unknown, attempt: number, policy: RetryPolicy, random = Math.random): number | undefined {
  if (attempt >= policy.attempts) return undefined;
  if (err instanceof BerthApiError) {
    if (!err.retryable) return undefined;
    if (err.retryAfterSeconds !== undefined) {
      const ms = err.retryAfterSeconds * 1000;
      return ms <= policy.maxDelayMs ? ms : undefined;
    }
  } else if (!(err instanceof BerthNetworkError)) {
    return undefined;
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
