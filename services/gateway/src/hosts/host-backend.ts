import { BerthError, hostOfWorkspace, type PlacementPolicy, type ReplyOf, type RequestOf, type SubjectKey } from '@berth/contracts';
import type { Backend, BackendRequestOptions } from '../backend.js';
import type { StreamBackend } from '../streams/stream-backend.js';
import type { HostDirectory } from './host-view.js';
import { HostLostInFlight, safeElsewhere, unlessHostLost } from './lost-race.js';
import { rankHosts } from './placement.js';
import { RecentPlacements } from './recent-placements.js';

/** A create that found its host full (or gone) may try the next one: nothing was made there. */
const TRY_NEXT_HOST = new Set(['CAPACITY_EXHAUSTED', 'PORTS_EXHAUSTED', 'SERVICE_UNAVAILABLE', 'HOST_UNAVAILABLE']);

export interface HostRouting {
  directory: HostDirectory;
  policy: PlacementPolicy;
  /** The host asked when no heartbeat was heard yet (a gateway just started): its own BERTH_HOST_ID. */
  fallbackHost: string;
}

/** HOST_UNAVAILABLE at once for a workspace whose host is lost, instead of waiting for a NATS timeout. */
function assertHostReachable(directory: HostDirectory, id: string, legacyHost: string): void {
  const host = hostOfWorkspace(id, legacyHost);
  if (directory.stateOf(host) === 'lost') {
    throw new BerthError('HOST_UNAVAILABLE', `the Docker host ${host} of this workspace is not answering; retry later`, { retryAfterSeconds: 5 });
  }
}

const workspaceIdOf = (data: unknown): string | undefined => {
  const { id, workspaceId } = data as { id?: unknown; workspaceId?: unknown };
  return typeof id === 'string' ? id : typeof workspaceId === 'string' ? workspaceId : undefined;
};

/**
 * The gateway's Backend over many Docker hosts: a create goes to the host placement picks, a
 * request about a workspace to the host its id names (after the lost check), lists to every host
 * that answers, merged. Everything else passes through unchanged.
 */
export function hostRoutedBackend(inner: Backend, routing: HostRouting): Backend {
  const { directory } = routing;
  const recent = new RecentPlacements();
  const live = () => (directory.size === 0 ? [routing.fallbackHost] : directory.reachable());

  async function create(data: RequestOf<'containerCreate'>, opts: BackendRequestOptions): Promise<ReplyOf<'containerCreate'>> {
    // A retry of a create (same requestId) must reach the host that may have made it.
    const sticky = recent.hostOf(data.requestId);
    if (sticky !== undefined) return inner.request('containerCreate', data, { ...opts, hostId: sticky });
    if (directory.size === 0) return inner.request('containerCreate', data, { ...opts, hostId: routing.fallbackHost });
    const pool = typeof data.pool === 'string' ? data.pool : undefined;
    const hosts = rankHosts(
      directory,
      { pool, ports: Math.max(1, data.ports?.length ?? 1), warm: data.pool !== false, ...(data.repo && { repo: data.repo }) },
      routing.policy,
    );
    let lastError: unknown;
    for (const hostId of hosts) {
      recent.remember(data.requestId, hostId);
      directory.notePlaced(hostId, pool ?? directory.known().get(hostId)?.heartbeat.pools[0]?.name ?? '');
      try {
        return await unlessHostLost(directory, hostId, inner.request('containerCreate', data, { ...opts, hostId }));
      } catch (err) {
        if (err instanceof HostLostInFlight && !safeElsewhere(data)) throw err;
        // A template is usable where it was built: a host without it made nothing, the next may have it.
        const templateElsewhere = err instanceof BerthError && err.code === 'TEMPLATE_NOT_FOUND' && data.template !== undefined;
        if (!(err instanceof BerthError) || (!TRY_NEXT_HOST.has(err.code) && !templateElsewhere)) throw err;
        recent.forget(data.requestId);
        lastError = err;
      }
    }
    throw lastError;
  }

  async function fanOut<K extends 'containerList' | 'volumeList'>(key: K, data: RequestOf<K>, opts: BackendRequestOptions): Promise<ReplyOf<K>[]> {
    return Promise.all(live().map((hostId) => inner.request(key, data, { ...opts, hostId })));
  }

  async function volumeDelete(data: RequestOf<'volumeDelete'>, opts: BackendRequestOptions): Promise<ReplyOf<'volumeDelete'>> {
    const results = await Promise.allSettled(live().map((hostId) => inner.request('volumeDelete', data, { ...opts, hostId })));
    const removed = results.find((r) => r.status === 'fulfilled');
    if (removed) return removed.value;
    const errors = results.map((r) => (r as PromiseRejectedResult).reason as unknown);
    // The most telling refusal wins: in use or forbidden on some host beats "not found" on the others.
    throw errors.find((e) => !(e instanceof BerthError) || e.code !== 'VOLUME_NOT_FOUND') ?? errors[0];
  }

  return {
    async request<K extends SubjectKey>(key: K, data: RequestOf<K>, opts: BackendRequestOptions = {}): Promise<ReplyOf<K>> {
      if (opts.hostId !== undefined) return inner.request(key, data, opts);
      switch (key) {
        case 'containerCreate':
          return create(data as RequestOf<'containerCreate'>, opts) as Promise<ReplyOf<K>>;
        case 'containerList': {
          const lists = await fanOut('containerList', data as RequestOf<'containerList'>, opts);
          const containers = lists.flatMap((l) => l.containers);
          return { containers, count: containers.length } as ReplyOf<K>;
        }
        case 'volumeList': {
          const lists = await fanOut('volumeList', data as RequestOf<'volumeList'>, opts);
          const volumes = lists.flatMap((l) => l.volumes);
          return { volumes, count: volumes.length, limit: Math.max(0, ...lists.map((l) => l.limit)) } as ReplyOf<K>;
        }
        case 'volumeDelete':
          return volumeDelete(data as RequestOf<'volumeDelete'>, opts) as Promise<ReplyOf<K>>;
        default: {
          const id = workspaceIdOf(data);
          if (id !== undefined) assertHostReachable(directory, id, routing.fallbackHost);
          return inner.request(key, data, opts);
        }
      }
    },
  };
}

/** Streams (exec, terminal) of a workspace whose host is lost: HOST_UNAVAILABLE at once. */
export function hostCheckedStreams(inner: StreamBackend, directory: HostDirectory, legacyHost: string): StreamBackend {
  return {
    open: (key, data, opts) => {
      // Streams of a workspace; a template build names its host itself.
      if ('id' in data && typeof data.id === 'string') assertHostReachable(directory, data.id, legacyHost);
      return inner.open(key, data, opts);
    },
  };
}
