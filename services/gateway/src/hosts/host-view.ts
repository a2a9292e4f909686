import { HOST_LOST_AFTER_MS, type HostHeartbeat, type HostState, type HostView } from '@berth/contracts';

/** One host as the gateway last heard it, plus what it placed there since (heartbeats lag). */
export interface KnownHost {
  heartbeat: HostHeartbeat;
  /** Gateway clock (ms) of the last heartbeat. */
  seenAt: number;
  /** Creates this gateway sent there since that heartbeat: counted as used and as warm taken. */
  placed: Map<string, number>;
}

/**
 * The live view of every Docker host, from heartbeats alone: no request is made to read it, so
 * placement and the lost-host check add nothing measurable to a call. A host silent for
 * `lostAfterMs` (three missed beats by default) is `lost` until it beats again.
 */
export class HostDirectory {
  private readonly hosts = new Map<string, KnownHost>();
  private readonly lostListeners: ((hostId: string, last: HostHeartbeat) => void)[] = [];
  private readonly reported = new Set<string>();

  constructor(
    private readonly lostAfterMs = HOST_LOST_AFTER_MS,
    private readonly now: () => number = () => Date.now(),
  ) {}

  heard(hb: HostHeartbeat): void {
    this.hosts.set(hb.hostId, { heartbeat: hb, seenAt: this.now(), placed: new Map() });
    this.reported.delete(hb.hostId);
  }

  stateOf(hostId: string): HostState | undefined {
    const h = this.hosts.get(hostId);
    if (!h) return undefined;
    return this.now() - h.seenAt > this.lostAfterMs ? 'lost' : h.heartbeat.state;
  }

  /** Hosts that answer requests (up or draining), by id. */
  reachable(): string[] {
    return [...this.hosts.keys()].filter((id) => this.stateOf(id) !== 'lost').sort();
  }

  known(): ReadonlyMap<string, KnownHost> {
    return this.hosts;
  }

  get size(): number {
    return this.hosts.size;
  }

  /** Counts a create sent to `hostId` until its next heartbeat says what became of it. */
  notePlaced(hostId: string, pool: string): void {
    const h = this.hosts.get(hostId);
    if (h) h.placed.set(pool, (h.placed.get(pool) ?? 0) + 1);
  }

  /** Calls `listener` once per host that goes lost (checked by `sweep`). Returns the unsubscriber. */
  onLost(listener: (hostId: string, last: HostHeartbeat) => void): () => void {
    this.lostListeners.push(listener);
    return () => {
      const i = this.lostListeners.indexOf(listener);
      if (i >= 0) this.lostListeners.splice(i, 1);
    };
  }

  /** Tells listeners about hosts that went lost since the last sweep. */
  sweep(): void {
    for (const [id, h] of this.hosts) {
      if (this.stateOf(id) !== 'lost' || this.reported.has(id)) continue;
      this.reported.add(id);
      for (const l of this.lostListeners) l(id, h.heartbeat);
    }
  }

  view(hostId: string): HostView | undefined {
    const h = this.hosts.get(hostId);
    const state = this.stateOf(hostId);
    if (!h || !state) return undefined;
    return {
      id: hostId,
      state,
      lastSeenAt: new Date(Date.now() - (this.now() - h.seenAt)).toISOString(),
      capacity: h.heartbeat.capacity,
      pools: h.heartbeat.pools,
    };
  }

  list(): HostView[] {
    return [...this.hosts.keys()].sort().flatMap((id) => this.view(id) ?? []);
  }
}
