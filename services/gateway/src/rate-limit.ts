import { BerthError } from '@berth/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * In-process limits: the gateway keeps no shared state (no Redis by design), so with several
 * gateways behind a balancer each enforces its own limit and a caller gets up to N times as much.
 */
export interface RateLimitOptions {
  /** Sustained requests per second per API key (unless the key sets its own); 0 disables. */
  rps: number;
  /** Requests a caller may make at once before the rate applies. */
  burst: number;
  /** 401s per client address per minute before that address's failures get 429s; 0 disables. */
  authFailuresPerMinute: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { rps: 50, burst: 100, authFailuresPerMinute: 30 };

const WINDOW_MS = 60_000;
/** Above this many tracked keys, idle entries are swept, so many distinct callers cannot grow memory without bound. */
const SWEEP_AT = 10_000;

interface BucketLimit {
  rps: number;
  burst: number;
}

/** One caller's bucket after a request, as the `RateLimit-*` answer headers tell it. */
interface BucketState {
  /** 0 if the request may go on, else seconds until it may (Retry-After). */
  wait: number;
  /** Requests the full bucket holds. */
  limit: number;
  /** Requests left now. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds the full bucket takes to refill from empty. */
  windowSeconds: number;
}

const UNLIMITED: BucketState = { wait: 0, limit: 0, remaining: 0, resetSeconds: 0, windowSeconds: 0 };

/**
 * The IETF draft's `RateLimit-Limit/-Remaining/-Reset` and `RateLimit-Policy` headers
 * (draft-ietf-httpapi-ratelimit-headers), as GitHub and most client libraries read them.
 */
function setRateLimitHeaders(reply: FastifyReply, s: BucketState): void {
  if (s.limit === 0) return;
  reply.raw.setHeader('ratelimit-limit', String(s.limit));
  reply.raw.setHeader('ratelimit-remaining', String(s.remaining));
  reply.raw.setHeader('ratelimit-reset', String(s.resetSeconds));
  reply.raw.setHeader('ratelimit-policy', `${s.limit};w=${s.windowSeconds}`);
}

/**
 * A token bucket per key: `burst` tokens, refilled at `rps` per second. Each key may bring its own
 * limit (an API key's quota); rps 0 means unlimited.
 */
class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number; limit: BucketLimit }>();

  constructor(
    private readonly defaults: BucketLimit,
    private readonly now: () => number,
  ) {}

  /** Takes one token: `wait` is 0 if allowed, else the seconds until one is available. */
  take(key: string, limit: BucketLimit = this.defaults): BucketState {
    if (limit.rps <= 0) return UNLIMITED;
    const burst = Math.max(1, limit.burst);
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: burst, at: t, limit };
    b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * limit.rps);
    b.at = t;
    b.limit = limit;
    if (this.buckets.size >= SWEEP_AT) this.sweep(t);
    this.buckets.set(key, b);
    const wait = b.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / limit.rps));
    if (wait === 0) b.tokens -= 1;
    return {
      wait,
      limit: burst,
      remaining: Math.floor(b.tokens),
      resetSeconds: Math.ceil((burst - b.tokens) / limit.rps),
      windowSeconds: Math.max(1, Math.ceil(burst / limit.rps)),
    };
  }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + ((t - b.at) / 1000) * b.limit.rps >= b.limit.burst) this.buckets.delete(k);
  }
}

/** Failures per key in fixed one-minute windows. */
export class FailureWindows {
  private readonly windows = new Map<string, { count: number; start: number }>();

  constructor(
    private readonly limit: number,
    private readonly now: () => number,
  ) {}

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
 * Wraps the bearer-auth hook. Failures are counted per client address (`req.ip`: the socket's
 * peer, or with TRUST_PROXY the client the trusted proxies name); an address over its limit gets
 * 429 instead of 401, but correct credentials always pass, so someone guessing from a shared
 * address (a NAT, a proxy) can never lock a valid key out. An authenticated caller spends one
 * token of its key's bucket per request.
 */
export function withRateLimits(
  auth: (req: FastifyRequest) => Promise<void>,
  opts: RateLimitOptions,
): (req: FastifyRequest, reply?: FastifyReply) => Promise<void> {
  const now = opts.now ?? (() => performance.now());
  const callers = new TokenBuckets({ rps: opts.rps, burst: opts.burst }, now);
  const failures = opts.authFailuresPerMinute > 0 ? new FailureWindows(opts.authFailuresPerMinute, now) : undefined;
  return async (req, reply) => {
    try {
      await auth(req);
    } catch (err) {
      if (!(err instanceof BerthError && err.code === 'UNAUTHORIZED') || !failures) throw err;
      const blocked = failures.blockedFor(req.ip);
      if (blocked > 0) throw rateLimited(blocked, 'too many failed authentication attempts');
      failures.record(req.ip);
      throw err;
    }
    // One bucket per API key, with the key's own quota if it has one; ticket-opened requests
    // (no key) share a bucket per owner at the default rate.
    const state = req.apiKey ? callers.take(`key:${req.apiKey.name}`, req.apiKey.rateLimit) : callers.take(`owner:${req.owner}`);
    if (reply) setRateLimitHeaders(reply, state);
    if (state.wait > 0) throw rateLimited(state.wait, 'rate limit exceeded');
  };
}
