import { BerthError, type PlacementPolicy } from '@berth/contracts';
import type { HostDirectory, KnownHost } from './host-view.js';

export interface PlacementRequest {
  /** The pool's name; undefined for the hosts' default pool (their first). */
  pool: string | undefined;
  /** Host ports the create needs (one per container port, at least one). */
  ports: number;
  /** A cold create takes nothing from the warm pool. */
  warm: boolean;
  /** The repo the workspace will be set up with: hosts holding it (heartbeat `repos`) come first. */
  repo?: string;
}

interface Candidate {
  id: string;
  /** Holds the asked repo's mirror (and seed, main image): its setup fetches instead of cloning. */
  local: boolean;
  warm: number;
  load: number;
}

/** Retry-After of "every host is full": about when a reaped or deleted workspace frees room. */
const FULL_RETRY_AFTER_S = 5;

function candidateOf(id: string, h: KnownHost, req: PlacementRequest): Candidate | undefined {
  const hb = h.heartbeat;
  const pool = req.pool === undefined ? hb.pools[0] : hb.pools.find((p) => p.name === req.pool);
  const placed = [...h.placed.values()].reduce((a, b) => a + b, 0);
  const c = hb.capacity;
  const warm = req.warm && pool ? Math.max(0, pool.warm - (h.placed.get(pool.name) ?? 0)) : 0;
  // A warm claim needs no new room (its container and ports exist); anything else is a new container.
  if (warm === 0) {
    if (c.containers + placed >= c.maxContainers || c.freePorts - placed < req.ports) return undefined;
    if (c.maxMemoryMb > 0 && c.usedMemoryMb >= c.maxMemoryMb) return undefined;
  }
  return { id, local: isLocal(h, req), warm, load: loadOf(h) };
}

const isLocal = (h: KnownHost, req: PlacementRequest): boolean => req.repo !== undefined && (h.heartbeat.repos ?? []).includes(req.repo);

/** Workspaces in use (claimed, plus what this gateway sent since the last heartbeat) over the host's maximum. */
function loadOf(h: KnownHost): number {
  const hb = h.heartbeat;
  const inUse = hb.pools.reduce((n, p) => n + p.claimed, 0) + [...h.placed.values()].reduce((a, b) => a + b, 0);
  return hb.capacity.maxContainers > 0 ? inUse / hb.capacity.maxContainers : 1;
}

/**
 * Hosts a create may go to, best first (later ones are tried when an earlier one turns out full).
 * First the `up` hosts with a warm container of the pool, or room and ports for a new one. For a
 * create naming a repo, a host holding that repo (its mirror, seed, main image) beats one that does
 * not (its setup then fetches instead of cloning: seconds to minutes, more than any claim). Then a
 * host with a warm container beats one without (a claim takes milliseconds, a cold create hundreds).
 * Then, by workspaces in use (claimed, plus what this gateway sent since the last heartbeat),
 * `spread` prefers the least loaded host, `pack` the most loaded one that still has room; ties go
 * by host id, so the order is stable. Last, the `up` hosts that look full or lack the pool: a
 * heartbeat is up to a second old (room may have been freed since), and only a pool-manager can
 * say POOL_NOT_FOUND; each of them answers for itself (CAPACITY_EXHAUSTED with Retry-After when
 * it really is full). No `up` host at all: CAPACITY_EXHAUSTED with Retry-After.
 */
export function rankHosts(dir: HostDirectory, req: PlacementRequest, policy: PlacementPolicy): string[] {
  const candidates: Candidate[] = [];
  const lastResort: Candidate[] = [];
  for (const [id, h] of dir.known()) {
    if (dir.stateOf(id) !== 'up') continue;
    const c = candidateOf(id, h, req);
    if (c) candidates.push(c);
    else lastResort.push({ id, local: isLocal(h, req), warm: 0, load: loadOf(h) });
  }
  if (candidates.length === 0 && lastResort.length === 0) {
    throw new BerthError('CAPACITY_EXHAUSTED', 'every Docker host is draining or lost; retry later', { retryAfterSeconds: FULL_RETRY_AFTER_S });
  }
  const sign = policy === 'pack' ? -1 : 1;
  const order = (a: Candidate, b: Candidate) =>
    Number(b.local) - Number(a.local) || Number(b.warm > 0) - Number(a.warm > 0) || sign * (a.load - b.load) || (a.id < b.id ? -1 : 1);
  return [...candidates.sort(order), ...lastResort.sort(order)].map((c) => c.id);
}
