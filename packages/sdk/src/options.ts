import type { RetryPolicy } from './retry.js';

export interface BerthOptions {
  /** The gateway, e.g. `http://127.0.0.1:8080`. Default: the `BERTH_URL` environment variable. */
  url?: string;
  /**
   * The bearer token. Default: the `BERTH_API_KEY` environment variable. Kept private: never in
   * errors or `inspect()` output.
   */
  apiKey?: string;
  /** Default deadline for every call, retries included. Default 30 000 ms. */
  timeoutMs?: number;
  /**
   * Retries of idempotent calls (GET, DELETE, and POSTs that carry an Idempotency-Key such as
   * create) after a retryable error, a 429/503 or a lost connection. On by default
   * (`DEFAULT_RETRY`); `{ attempts: 1 }` turns it off. exec and setup are never retried.
   */
  retry?: Partial<RetryPolicy>;
  /** The fetch to call (default: the global one), e.g. one with a proxy dispatcher or instrumentation. */
  fetch?: typeof globalThis.fetch;
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
