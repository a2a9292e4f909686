import { HEARTBEAT_INTERVAL_MS } from '@berth/contracts';

/** The longest a loss marker left by a peer waits for this host to notice it, ms. */
export const RETURN_CHECK_MAX_MS = 5_000;

/**
 * When to look for this host's own loss marker (left by a peer that stopped hearing it) instead of
 * asking Redis every half beat: after a stall (a tick came late: this host's heartbeats stopped
 * too, and peers may have counted it lost) and otherwise every RETURN_CHECK_MAX_MS, for losses it
 * cannot see from here (a partition between NATS nodes).
 */
export class ReturnCheck {
  private lastTick: number;
  private lastCheck: number;

  constructor(private readonly now: () => number = Date.now) {
    this.lastTick = this.lastCheck = now();
  }

  /** Called on every tick; true when this tick should look. */
  due(): boolean {
    const t = this.now();
    const stalled = t - this.lastTick > 2 * HEARTBEAT_INTERVAL_MS;
    this.lastTick = t;
    if (!stalled && t - this.lastCheck < RETURN_CHECK_MAX_MS) return false;
    this.lastCheck = t;
    return true;
  }
}
