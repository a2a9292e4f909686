/** How long a create's requestId keeps its host: covers the gateway's own retry and a caller's quick one. */
const KEEP_MS = 10 * 60_000;
const MAX_ENTRIES = 20_000;

/**
 * requestId → host of recent creates, so a retried create (same Idempotency-Key) reaches the host
 * that may already have made the workspace instead of being placed, and made, again elsewhere.
 * In this gateway's memory only: bounded, oldest first out.
 */
export class RecentPlacements {
  private readonly entries = new Map<string, { hostId: string; at: number }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  remember(requestId: string, hostId: string): void {
    this.entries.delete(requestId);
    this.entries.set(requestId, { hostId, at: this.now() });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  forget(requestId: string): void {
    this.entries.delete(requestId);
  }

  hostOf(requestId: string): string | undefined {
    const e = this.entries.get(requestId);
    if (!e) return undefined;
    if (this.now() - e.at <= KEEP_MS) return e.hostId;
    this.entries.delete(requestId);
    return undefined;
  }
}
