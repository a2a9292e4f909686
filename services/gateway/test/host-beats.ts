import type { HostHeartbeat } from '@berth/contracts';

/** A host's heartbeat with one pool, `default`; tests override what they look at. */
export function heartbeat(
  hostId: string,
  over: { containers?: number; claimed?: number; max?: number; warm?: number; freePorts?: number; state?: 'up' | 'draining'; pool?: string } = {},
): HostHeartbeat {
  return {
    hostId,
    state: over.state ?? 'up',
    at: new Date().toISOString(),
    boot: 'b1',
    capacity: { maxContainers: over.max ?? 10, containers: over.containers ?? 0, maxMemoryMb: 0, usedMemoryMb: 0, freePorts: over.freePorts ?? 100 },
    pools: [{ name: over.pool ?? 'default', warm: over.warm ?? 0, creating: 0, claimed: over.claimed ?? over.containers ?? 0 }],
  };
}
