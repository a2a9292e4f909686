import { BerthError } from '@berth/contracts';
import type { FastifyRequest } from 'fastify';

/**
 * In-process limits: the gateway keeps no shared state (no Redis by design), so with several
 * gateways behind a balancer each enforces its own limit and a caller gets up to N times as much.
 */
export interface RateLimitOptions {
  /** Sustained requests per second per authenticated caller; 0 disables. */
  rps: number;
  /** Requests a caller may make at once before the rate applies. */
  burst: number;
  /** 401s per remote address per minute before that address gets 429s; 0 disables. */
  authFailuresPerMinute: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { rps: 50, burst: 100, authFailuresPerMinute: 30 };

const WINDOW_MS = 60_000;
/** Above this many tracked keys, idle entries are swept, so many distinct callers cannot grow memory without bound. */
const SWEEP_AT = 10_000;

/** A token bucket per key: `burst` tokens, refilled at `rps` per second. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly rps: number, private readonly burst: number, private readonly now: () => number) {}

  /** Takes one token; returns 0 if allowed, else the seconds until one is available. */
  take(key: string): number {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rps);
    b.at = t;
    if (this.buckets.size >= SWEEP_AT) this.sweep(t);
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.rps));
  }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + ((t - b.at) / 1000) * this.rps >= this.burst) this.buckets.delete(k);
  }
}

/** Failures per key in fixed one-minute windows. */
export class FailureWindows {
  private readonly windows = new Map<string, { count: number; start: number }>();

  constructor(private readonly limit: number, private readonly now: () => number) {}

  /** Seconds until the key may try again, or 0 if it is under the limit. */
  blockedFor(key: string): number {
    const w = this.windows.get(key);
    if (!w || w.count < this.limit) return 0;
    const left = w.start + WINDOW_MS - this.now();
    if (left <= 0) {
      this.windows.delete(key);
      return 0;
    }
    return Math.ceil(left / 1000);
  }

  record(key: string): void {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= WINDOW_MS) {
      if (this.windows.size >= SWEEP_AT) for (const [k, v] of this.windows) if (t - v.start >= WINDOW_MS) this.windows.delete(k);
      w = { count: 0, start: t };
      this.windows.set(key, w);
    }
    w.count += 1;
  }
}

const rateLimited = (retryAfterSeconds: number, message: string) => new BerthError('RATE_LIMITED', message, { retryAfterSeconds });

/**
 * Wraps the bearer-auth hook. An address that failed auth too often this minute is refused before
 * its token is even compared (so guessing gets no signal, right token or not); an authenticated
 * caller spends one token of its bucket per request.
 */
export function withRateLimits(
  auth: (req: FastifyRequest) => Promise<void>, opts: RateLimitOptions,
): (req: FastifyRequest) => Promise<void> {
  const now = opts.now ?? (() => performance.now());
  const callers = opts.rps > 0 ? new TokenBuckets(opts.rps, Math.max(1, opts.burst), now) : undefined;
  const failures = opts.authFailuresPerMinute > 0 ? new FailureWindows(opts.authFailuresPerMinute, now) : undefined;
  return async (req) => {
    const blocked = failures?.blockedFor(req.ip) ?? 0;
    if (blocked > 0) throw rateLimited(blocked, 'too many failed authentication attempts');
    try {
      await auth(req);
    } catch (err) {
      if (err instanceof BerthError && err.code === 'UNAUTHORIZED') failures?.record(req.ip);
      throw err;
    }
    const wait = callers?.take(req.owner) ?? 0;
    if (wait > 0) throw rateLimited(wait, 'rate limit exceeded');
  };
}
