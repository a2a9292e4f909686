import { DEFAULT_HOST_ID, SUBJECTS, hostOfWorkspace, hostSubject, isHostAddressed, type SubjectKey } from '@berth/contracts';
import type { NatsConnection } from '@nats-io/transport-node';

/** The host each connection's services run on (BERTH_HOST_ID), set once by connectNats. */
const hostOfConnection = new WeakMap<NatsConnection, string>();

export function bindHost(nc: NatsConnection, hostId: string): void {
  hostOfConnection.set(nc, hostId);
}

export const connectionHost = (nc: NatsConnection): string => hostOfConnection.get(nc) ?? DEFAULT_HOST_ID;

/** The subject a service on `nc` answers `key` on: its own host's for host-addressed subjects. */
export function servedSubject(nc: NatsConnection, key: SubjectKey): string {
  const subject = SUBJECTS[key].subject;
  return isHostAddressed(key) ? hostSubject(subject, connectionHost(nc)) : subject;
}

/**
 * Where a request goes: a host-addressed subject to the host asked for, else the host named by the
 * request's workspace id, else the caller's own host (repo-cache beside the pool-manager asking).
 */
export function subjectOf(nc: NatsConnection, key: SubjectKey, data: unknown, hostId: string | undefined): string {
  const subject = SUBJECTS[key].subject;
  if (!isHostAddressed(key)) return subject;
  return hostSubject(subject, hostId ?? workspaceHost(data, connectionHost(nc)) ?? connectionHost(nc));
}

/** The host of the request's workspace; an id naming none is the caller's own host's. */
function workspaceHost(data: unknown, ownHost: string): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { id, workspaceId } = data as { id?: unknown; workspaceId?: unknown };
  const ws = typeof id === 'string' ? id : typeof workspaceId === 'string' ? workspaceId : undefined;
  return ws === undefined ? undefined : hostOfWorkspace(ws, ownHost);
}
