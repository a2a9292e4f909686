/** One warm claim as this pool-manager acknowledged it. */
export interface JournaledClaim {
  id: string;
  ref: string;
  requestId: string;
  owner: string;
  name: string;
  at: number;
}

/** Longer than Redis can hold an acknowledged write back from its AOF (a write postponed ~2 s behind a slow fsync, plus the 1 s fsync). */
const KEEP_MS = 60_000;
const MAX_ENTRIES = 20_000;

/**
 * The warm claims this process acknowledged lately. Redis with `appendfsync everysec` answers a
 * claim before its AOF write reaches the file when that write is postponed behind a slow fsync; a
 * redis-server killed then comes back with the container warm. The journal claims it again (for the
 * same caller and request) before anything else is claimed or read after Redis came back.
 */
export class ClaimJournal {
  private readonly claims = new Map<string, JournaledClaim>();

  add(claim: JournaledClaim): void {
    this.claims.set(claim.id, claim);
    const oldest = this.claims.values().next().value;
    if (this.claims.size > MAX_ENTRIES || (oldest && oldest.at < claim.at - KEEP_MS)) this.prune(claim.at);
  }

  /** The claim ended (stopped): nothing to put back. */
  forget(id: string): void {
    this.claims.delete(id);
  }

  has(id: string): boolean {
    return this.claims.has(id);
  }

  recent(now = Date.now()): JournaledClaim[] {
    this.prune(now);
    return [...this.claims.values()];
  }

  private prune(now: number): void {
    for (const [id, c] of this.claims) {
      if (c.at >= now - KEEP_MS && this.claims.size <= MAX_ENTRIES) break;
      this.claims.delete(id);
    }
  }
}
