import { HostHeartbeatPublisher } from './host/host-heartbeat.js';
import { startLossReporting } from './host/loss-reporting.js';
import { RepoLocality } from './host/repo-locality.js';
import { connectNats, createMetricsRegistry, createRedis, drainNats, startHealthServer, type Logger, type Stopper } from '@berth/service-kit';
import { AgentDirs } from './agent/agent-dirs.js';
import { AgentRegistry } from './agent/agent-registry.js';
import type { PoolManagerConfig } from './config.js';
import { DockerDriver } from './driver/docker-driver.js';
import type { WorkloadDriver } from './driver/workload-driver.js';
import { workspaceNameKey } from './driver/name-key.js';
import { WorkloadNames } from './driver/workload-names.js';
import { JetStreamEvents, noEvents } from './events.js';
import { natsLlmEgress } from './llm/egress-client.js';
import { fileKeyStore, memoryKeyStore } from './llm/key-store.js';
import { LlmKeys } from './llm/llm-keys.js';
import { serveHandlers } from './handlers.js';
import { registerPoolMetrics } from './metrics.js';
import { checkPoolRuntimes } from './pool-runtimes.js';
import type { Activity } from './idle/activity.js';
import type { Reconciler } from './reconciler.js';
import { hostWorkspaces } from './host-workspaces.js';
import { WorkspaceStore } from './state/workspace-store.js';
import { jetStreamSetupEvents, noSetupEvents } from './setup/setup-events.js';
import { SetupService } from './setup/setup-service.js';
import { SetupStore } from './setup/setup-store.js';
import { serveStreamHandlers } from './streams/stream-handlers.js';
import { serveFileHandlers } from './files/file-handlers.js';
import { endingWatches, FileWatches } from './files/file-watches.js';
import { serveWatchHandlers, watchLimits } from './files/watch-handlers.js';
import { Tickets } from './tickets.js';
import { hostFromConfig, type Host } from './host.js';
import type { WorkspaceAccess } from './workspaces/access.js';
import type { Claims } from './workspaces/claims.js';
import type { Lifecycle } from './workspaces/lifecycle.js';
import type { Processes } from './workspaces/processes.js';
import { PreviewLinks } from './previews/preview-links.js';
import { servePreviewHandlers } from './previews/preview-handlers.js';
import { startPauses } from './pause/start-pauses.js';
import type { Pauses } from './pause/pauses.js';
import type { PausedRetention } from './pause/paused-retention.js';

export interface PoolManager {
  reconciler: Reconciler;
  store: WorkspaceStore;
  host: Host;
  claims: Claims;
  lifecycle: Lifecycle;
  processes: Processes;
  access: WorkspaceAccess;
  setups: SetupService;
  activity: Activity;
  pauses: Pauses;
  retention: PausedRetention;
}

/** Wires pool-manager together; every resource it opens is registered with `onStop`. */
export async function startPoolManager(
  config: PoolManagerConfig,
  logger: Logger,
  onStop: (s: Stopper) => void,
  driver: WorkloadDriver = new DockerDriver(config.DOCKER_SOCKET),
  /** A newer pool-manager took this host over (main exits); every state change here is refused already. */
  onSuperseded: () => void = () => undefined,
  /** The engine host these workspaces run on (main builds it from the config). */
  host: Host = hostFromConfig(config),
): Promise<PoolManager> {
  await checkPoolRuntimes(config.POOLS, driver);
  const redis = createRedis({ url: config.REDIS_URL, name: 'pool-manager', logger, resendUnfulfilled: false });
  onStop(async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  const nc = await connectNats({
    url: config.NATS_URL,
    name: `pool-manager-${host.id}`,
    user: config.NATS_USER,
    password: config.NATS_PASSWORD,
    hostId: host.id,
    logger,
  });
  onStop(() => drainNats(nc));

  await driver.ensureNetwork(config.WORKSPACE_NETWORK);
  const watches = new FileWatches();
  onStop(() => watches.closeAll());
  const events = endingWatches(
    config.EVENTS_ENABLED ? await JetStreamEvents.start(nc, host.id, logger, { replicas: config.JETSTREAM_REPLICAS }) : noEvents,
    watches,
  );
  const store = new WorkspaceStore(redis, host.id);
  // Fencing: from here on any older pool-manager of this host (one that was thought dead, or a
  // second one started by mistake) has every Redis state change refused, so it cannot claim,
  // create, stop or reconcile behind this one's back.
  const epoch = await store.acquireEpoch();
  logger.info({ epoch }, 'host epoch acquired');
  store.onFenced = () => {
    logger.error({ epoch }, 'a newer pool-manager took over this host; stopping');
    onSuperseded();
  };
  const agentDirs = config.AGENTS_ENABLED ? await AgentDirs.open(config.AGENT_SOCKET_DIR, host.id, logger) : undefined;
  const agents = agentDirs && new AgentRegistry(agentDirs, logger);
  // Closed last: commands in flight keep their connections; agents reconnect to the next pool-manager.
  if (agents) onStop(() => agents.closeAll());
  const names = new WorkloadNames(await workspaceNameKey(config.WORKSPACE_NAME_KEY, config.AGENT_SOCKET_DIR, host.id));
  const llmKeyStore = config.LLM_EGRESS_URL ? (agentDirs ? fileKeyStore(agentDirs) : memoryKeyStore()) : undefined;
  const llm = new LlmKeys(llmKeyStore, natsLlmEgress(nc), store, { egressUrl: config.LLM_EGRESS_URL, hostId: host.id }, logger);
  const { pools, filler, volumes, access, claims, lifecycle, processes, activity, idle, reconciler } = hostWorkspaces({
    config,
    host,
    driver,
    store,
    events,
    llm,
    names,
    logger,
    agents,
  });
  onStop(() => filler.stop());
  onStop(() => claims.close());
  const pauses = startPauses({ redis, driver, store, lifecycle, processes, idle, llm, events, pools, config, logger, agents }, onStop);

  // Rebuild from Docker before answering anyone, so a restart never serves stale state.
  await reconciler.run(true);
  await pauses.pauses.recoverFrozen(host.id);
  const timer = setInterval(() => {
    reconciler.run().catch((err: unknown) => logger.warn({ err }, 'reconcile failed'));
  }, config.RECONCILE_INTERVAL_MS);
  onStop(() => clearInterval(timer));

  const registry = createMetricsRegistry('pool-manager');
  const metrics = registerPoolMetrics(registry, store);
  const setupEvents = config.EVENTS_ENABLED ? jetStreamSetupEvents(nc, logger) : noSetupEvents;
  const repos = new RepoLocality(redis, host.id, logger);
  const setups = new SetupService(
    { nc, driver, access, lifecycle, processes, pools, config, logger, activity, repos },
    new SetupStore(redis, host.id),
    setupEvents,
    redis,
    (phase, ms, outcome) => metrics.setupPhaseSeconds.observe({ phase, outcome }, ms / 1000),
  );
  await setups.recover();
  onStop(() => setups.close());

  const subs = serveHandlers({
    nc,
    claims,
    lifecycle,
    processes,
    access,
    volumes,
    store,
    pools,
    config,
    host,
    metrics,
    setups,
    activity,
    logger,
    pauses: pauses.pauses,
  });
  subs.push(...serveStreamHandlers({ nc, processes, tickets: new Tickets(redis, access), activity, logger }));
  subs.push(...serveFileHandlers({ nc, access, agents, activity, maxUploadBytes: config.FILES_MAX_UPLOAD_BYTES, logger }));
  subs.push(...serveWatchHandlers({ nc, access, agents, logger, watches, ...watchLimits(config) }));
  subs.push(...servePreviewHandlers({ nc, links: new PreviewLinks(redis, access), logger }));
  const heartbeat = new HostHeartbeatPublisher(nc, redis, store, pools, config, logger, repos).start();
  subs.push(heartbeat.sub);
  onStop(() => {
    heartbeat.stop();
    for (const s of subs) s.unsubscribe();
  });
  onStop(await startLossReporting({ nc, redis, events, hostId: host.id, exists: async (id) => (await store.get(id)) !== undefined, logger }));
  // Started means serving: the server has every subscription before anyone is told we are up.
  await nc.flush();

  if (config.HEALTH_PORT > 0) {
    const health = await startHealthServer({
      port: config.HEALTH_PORT,
      host: config.HEALTH_BIND,
      registry,
      check: async () => {
        const checks = { nats: !nc.isClosed(), redis: redis.status === 'ready', docker: await driver.ping(), current: !store.fenced };
        return { ok: Object.values(checks).every(Boolean), checks };
      },
    });
    onStop(() => new Promise<void>((resolve) => health.close(() => resolve())));
  }
  return { host, reconciler, store, claims, lifecycle, processes, access, setups, activity, pauses: pauses.pauses, retention: pauses.retention };
}
