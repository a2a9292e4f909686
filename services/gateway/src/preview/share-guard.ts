import { createHash } from 'node:crypto';
import { BerthError } from '@berth/contracts';
import { FailureWindows } from '../rate-limit.js';

/** Secrets that opened a link lately (hashed), so a source over its limit still reaches a link in use. */
const KNOWN_GOOD_MAX = 10_000;
const KNOWN_GOOD_MS = 10 * 60_000;

/**
 * Failed share-link secrets per source address (like the API's failed-auth limit, same setting).
 * A source over its limit gets 429 for a secret this gateway has not seen open a link lately,
 * without asking pool-manager, so guessing costs the backend nothing; a secret that did open one
 * (any source, the last ten minutes) is still checked with pool-manager, so a correct link keeps
 * working from a busy NAT and a revoke still ends it at once.
 */
export class ShareGuard {
  private readonly failures: FailureWindows;
  private readonly good = new Map<string, number>();

  constructor(
    failuresPerMinute: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.failures = new FailureWindows(failuresPerMinute, now);
  }

  async resolve<T>(source: string, secret: string, lookup: () => Promise<T>): Promise<T> {
    const key = createHash('sha256').update(secret).digest('base64url');
    const blocked = this.failures.blockedFor(source);
    if (blocked > 0 && !this.isGood(key)) throw new BerthError('RATE_LIMITED', 'too many failed preview links', { retryAfterSeconds: blocked });
    try {
      const link = await lookup();
      this.remember(key);
      return link;
    } catch (err) {
      if (err instanceof BerthError && err.code === 'UNAUTHORIZED') this.failures.record(source);
      throw err;
    }
  }

  private isGood(key: string): boolean {
    const at = this.good.get(key);
    return at !== undefined && this.now() - at < KNOWN_GOOD_MS;
  }

  private remember(key: string): void {
    this.good.delete(key);
    if (this.good.size >= KNOWN_GOOD_MAX) this.good.delete(this.good.keys().next().value!);
    this.good.set(key, this.now());
  }
}
