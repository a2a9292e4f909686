import type { HostStatus } from '@berth/contracts';
import { serve, type Logger, type NatsConnection, type Subscription } from '@berth/service-kit';
import type { PoolManagerConfig } from './config.js';
import type { Activity } from './idle/activity.js';
import { keepalive } from './idle/keepalive.js';
import { fitExecResult } from './exec-reply.js';
import type { PoolMetrics } from './metrics.js';
import { countByPool } from './pool-filler.js';
import type { PoolRegistry } from './pools.js';
import type { SetupService } from './setup/setup-service.js';
import type { WorkspaceStore } from './state/workspace-store.js';
import type { Host } from './host.js';
import type { WorkspaceAccess } from './workspaces/access.js';
import type { Claims } from './workspaces/claims.js';
import type { Lifecycle } from './workspaces/lifecycle.js';
import type { Processes } from './workspaces/processes.js';
import type { OwnerVolumes } from './volumes/owner-volumes.js';
import type { Pauses } from './pause/pauses.js';

export interface HandlerDeps {
  nc: NatsConnection;
  claims: Claims;
  lifecycle: Lifecycle;
  processes: Processes;
  access: WorkspaceAccess;
  volumes: OwnerVolumes;
  store: WorkspaceStore;
  pools: PoolRegistry;
  config: PoolManagerConfig;
  host: Host;
  metrics: PoolMetrics;
  setups: SetupService;
  activity: Activity;
  logger: Logger;
  pauses: Pauses;
}

/** Answers pool-manager's subjects of the catalogue. */
export function serveHandlers(d: HandlerDeps): Subscription[] {
  const { nc, claims, lifecycle, processes, access, logger } = d;
  return [
    serve(
      nc,
      'containerCreate',
      async (req) => {
        const stopTimer = d.metrics.claimSeconds.startTimer();
        try {
          const reply = await claims.create(req);
          const outcome = reply.warm ? 'warm' : 'cold';
          stopTimer({ outcome });
          d.metrics.claims.inc({ pool: reply.pool, outcome });
          return reply;
        } catch (err) {
          stopTimer({ outcome: 'error' });
          d.metrics.claims.inc({ pool: typeof req.pool === 'string' ? req.pool : 'none', outcome: 'error' });
          throw err;
        }
      },
      logger,
    ),
    serve(nc, 'containerGet', (req) => access.get(req.id, req.owner), logger),
    serve(nc, 'containerUsage', (req) => processes.usage(req.id, req.owner), logger),
    serve(nc, 'containerLlmKeyRevoke', (req) => lifecycle.llmKey(req.id, req.owner, 'revoke'), logger),
    serve(nc, 'containerLlmKeyRotate', (req) => lifecycle.llmKey(req.id, req.owner, 'rotate'), logger),
    serve(
      nc,
      'containerList',
      async (req) => {
        const containers = await access.list(req.owner);
        return { containers, count: containers.length };
      },
      logger,
    ),
    serve(
      nc,
      'containerDelete',
      async (req) => {
        await lifecycle.remove(req.id, req.owner);
        return { id: req.id, removed: true as const };
      },
      logger,
    ),
    serve(nc, 'volumeList', (req) => d.volumes.list(req.owner), logger),
    serve(
      nc,
      'volumeDelete',
      async (req) => {
        await d.volumes.remove(req.owner, req.name);
        return { name: req.name, removed: true as const };
      },
      logger,
    ),
    // Leave room for the rest of the message; max_payload is what the server accepts in one message.
    serve(
      nc,
      'containerExec',
      async (req) => {
        const release = d.activity.hold(req.id);
        try {
          return fitExecResult(await processes.exec(req), (nc.info?.max_payload ?? 1024 * 1024) - 1024);
        } finally {
          release();
        }
      },
      logger,
    ),
    serve(nc, 'containerKeepalive', (req) => keepalive(req, d), logger),
    serve(
      nc,
      'poolList',
      async () => {
        const counts = await countByPool(d.store);
        return {
          pools: d.pools.list.map((p) => ({ ...p, ...(counts.get(p.name) ?? { warm: 0, creating: 0, claimed: 0 }) })),
        };
      },
      logger,
    ),
    serve(nc, 'hostStatus', () => hostStatus(d), logger),
    serve(
      nc,
      'setupStart',
      async (req) => {
        await d.pauses.readyById(req.id, req.owner);
        return d.setups.start(req);
      },
      logger,
    ),
    serve(nc, 'containerPause', (req) => d.pauses.pause(req.id, req.owner), logger),
    serve(
      nc,
      'containerResume',
      async (req) => {
        if (!req.auto) return d.pauses.resume(req.id, req.owner);
        await d.pauses.readyById(req.id, req.owner);
        return d.access.get(req.id, req.owner);
      },
      logger,
    ),
    serve(nc, 'setupGet', (req) => d.setups.get(req.id, req.owner), logger),
  ];
}

async function hostStatus(d: HandlerDeps): Promise<HostStatus> {
  const [counts, capacity] = await Promise.all([countByPool(d.store), d.store.capacity()]);
  const containers = { total: capacity.count, warm: 0, claimed: 0, creating: 0 };
  for (const c of counts.values()) {
    containers.warm += c.warm;
    containers.claimed += c.claimed;
    containers.creating += c.creating;
  }
  return {
    hostId: d.host.id,
    containers,
    capacity: { maxContainers: d.host.capacity.maxContainers, maxMemoryMb: d.host.capacity.maxMemoryMb, usedMemoryMb: capacity.memoryMb },
  };
}
