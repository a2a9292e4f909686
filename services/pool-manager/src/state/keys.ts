/** Redis key layout of one Docker host's state. Everything here can be rebuilt from Docker labels. */
export function hostKeys(hostId: string) {
  const p = `berth:host:${hostId}:`;
  return {
    prefix: p,
    workspace: (id: string) => `${p}ws:${id}`,
    /** set of every workspace id with a record */
    all: `${p}all`,
    /** list of warm ids of a pool, claimed from the left */
    warm: (pool: string) => `${p}pool:${pool}:warm`,
    /** sorted set id → lastActiveAt of claimed workspaces */
    claimed: `${p}claimed`,
    /** hash port → workspace id */
    ports: `${p}ports`,
    /** hash with fields `count` and `memoryMb` reserved against the host budget */
    capacity: `${p}capacity`,
    /** requestId → workspace id, for idempotent creates */
    request: (requestId: string) => `${p}req:${requestId}`,
    /** requestId → sha256 of the body it was first sent with (a key reused with another body is refused) */
    requestBody: (requestId: string) => `${p}req-body:${requestId}`,
    /** hash `owner:name` → id */
    names: `${p}names`,
    reconcileLock: `${p}reconcile-lock`,
  };
}

export type HostKeys = ReturnType<typeof hostKeys>;
