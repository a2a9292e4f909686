import type { RetryPolicy } from './retry.js';

export interface BerthOptions {
  /** The gateway, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The bearer token (`BERTH_API_TOKEN`). Kept private: never in errors or `inspect()` output. */
  apiKey: string;
  /** Default deadline for every call, retries included. Default 30 000 ms. */
  timeoutMs?: number;
  /**
   * Retries of retryable errors (and lost connections) on idempotent calls: create (with its
   * Idempotency-Key), get, list, delete, pools, health. Off unless given; exec is never retried.
   */
  retry?: Partial<RetryPolicy>;
}

/** What every call accepts. */
export interface CallOptions {
  /** Deadline for this call, retries and their waits included. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Overrides the client's retry policy for this call. */
  retry?: Partial<RetryPolicy>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
