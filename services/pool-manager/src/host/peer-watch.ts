import { HOST_LOST_AFTER_MS, type HostHeartbeat } from '@berth/contracts';

/**
 * The other hosts as this pool-manager hears their heartbeats: which went silent for
 * `lostAfterMs` (each told once per silence; a heartbeat makes it live again).
 */
export class PeerWatch {
  private readonly peers = new Map<string, { seenAt: number; boot: string; told: boolean }>();

  constructor(
    private readonly self: string,
    private readonly lostAfterMs = HOST_LOST_AFTER_MS,
    private readonly now: () => number = () => Date.now(),
  ) {}

  heard(hb: Pick<HostHeartbeat, 'hostId' | 'boot'>): void {
    if (hb.hostId !== this.self) this.peers.set(hb.hostId, { seenAt: this.now(), boot: hb.boot, told: false });
  }

  /** Hosts silent for longer than lostAfterMs and not returned yet by an earlier call. */
  newlyLost(): { hostId: string; boot: string }[] {
    const lost: { hostId: string; boot: string }[] = [];
    for (const [hostId, p] of this.peers) {
      if (p.told || this.now() - p.seenAt <= this.lostAfterMs) continue;
      p.told = true;
      lost.push({ hostId, boot: p.boot });
    }
    return lost;
  }
}
