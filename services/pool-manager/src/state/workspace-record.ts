import type { ContainerView, WorkspaceState } from '@berth/contracts';

/** One workspace as stored in its Redis hash. */
export interface WorkspaceRecord {
  id: string;
  ref: string;
  pool: string;
  image: string;
  state: WorkspaceState;
  owner: string;
  name: string;
  requestId: string;
  /** containerPort → hostPort */
  ports: Record<string, number>;
  memoryMb: number;
  volumeName: string;
  createdAt: number;
  claimedAt: number;
  lastActiveAt: number;
  /** The caller's own idle timeout (PATCH), ms; absent: the host's default. */
  idleTimeoutMs?: number;
}

export function toHash(r: WorkspaceRecord): Record<string, string> {
  return {
    id: r.id,
    ref: r.ref,
    pool: r.pool,
    image: r.image,
    state: r.state,
    owner: r.owner,
    name: r.name,
    requestId: r.requestId,
    ports: JSON.stringify(r.ports),
    memoryMb: String(r.memoryMb),
    volumeName: r.volumeName,
    createdAt: String(r.createdAt),
    claimedAt: String(r.claimedAt),
    lastActiveAt: String(r.lastActiveAt),
    ...(r.idleTimeoutMs && { idleTimeoutMs: String(r.idleTimeoutMs) }),
  };
}

export function fromHash(h: Record<string, string>): WorkspaceRecord | undefined {
  if (!h.id) return undefined;
  return {
    id: h.id,
    ref: h.ref ?? '',
    pool: h.pool ?? '',
    image: h.image ?? '',
    state: (h.state ?? 'failed') as WorkspaceState,
    owner: h.owner ?? '',
    name: h.name ?? '',
    requestId: h.requestId ?? '',
    ports: JSON.parse(h.ports ?? '{}') as Record<string, number>,
    memoryMb: Number(h.memoryMb ?? 0),
    volumeName: h.volumeName ?? '',
    createdAt: Number(h.createdAt ?? 0),
    claimedAt: Number(h.claimedAt ?? 0),
    lastActiveAt: Number(h.lastActiveAt ?? 0),
    ...(h.idleTimeoutMs && { idleTimeoutMs: Number(h.idleTimeoutMs) }),
  };
}

const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : null);

export function toView(r: WorkspaceRecord): ContainerView {
  const first = Object.values(r.ports)[0];
  return {
    id: r.id,
    name: r.name || r.id,
    pool: r.pool,
    image: r.image,
    state: r.state,
    hostPort: first ?? null,
    ports: r.ports,
    createdAt: new Date(r.createdAt).toISOString(),
    claimedAt: iso(r.claimedAt),
    lastActiveAt: iso(r.lastActiveAt),
    volumeName: r.volumeName || null,
  };
}
