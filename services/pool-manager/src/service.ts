import { HostHeartbeatPublisher } from './host/host-heartbeat.js';
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
import { PoolFiller } from './pool-filler.js';
import { PoolImages } from './pool-image.js';
import { PoolRegistry } from './pools.js';
import { checkPoolRuntimes } from './pool-runtimes.js';
import { Provisioner } from './provisioner.js';
import { Activity } from './idle/activity.js';
import { IdleReaper } from './idle/idle-reaper.js';
import { Reconciler } from './reconciler.js';
import { WorkspaceStore } from './state/workspace-store.js';
import { jetStreamSetupEvents, noSetupEvents } from './setup/setup-events.js';
import { SetupService } from './setup/setup-service.js';
import { SetupStore } from './setup/setup-store.js';
import { serveStreamHandlers } from './streams/stream-handlers.js';
import { Tickets } from './tickets.js';
import { Workspaces } from './workspaces.js';
import { ImagePolicy } from './image-policy.js';
import { OwnerVolumes } from './volumes/owner-volumes.js';

export interface PoolManager {
  reconciler: Reconciler;
  store: WorkspaceStore;
  workspaces: Workspaces;
  setups: SetupService;
  activity: Activity;
}

/** Wires pool-manager together; every resource it opens is registered with `onStop`. */
export async function startPoolManager(
  config: PoolManagerConfig,
  logger: Logger,
  onStop: (s: Stopper) => void,
  driver: WorkloadDriver = new DockerDriver(config.DOCKER_SOCKET),
  /** A newer pool-manager took this host over (main exits); every state change here is refused already. */
  onSuperseded: () => void = () => undefined,
): Promise<PoolManager> {
  await checkPoolRuntimes(config.POOLS, driver);
  const redis = createRedis({ url: config.REDIS_URL, name: 'pool-manager', logger });
  onStop(async () => { await redis.quit().catch(() => redis.disconnect()); });
  const nc = await connectNats({ url: config.NATS_URL, name: `pool-manager-${config.BERTH_HOST_ID}`, user: config.NATS_USER, password: config.NATS_PASSWORD, hostId: config.BERTH_HOST_ID, logger });
  onStop(() => drainNats(nc));

  await driver.ensureNetwork(config.WORKSPACE_NETWORK);
  const events = config.EVENTS_ENABLED ? await JetStreamEvents.start(nc, config.BERTH_HOST_ID, logger) : noEvents;
  const store = new WorkspaceStore(redis, config.BERTH_HOST_ID);
  // Fencing: from here on any older pool-manager of this host (one that was thought dead, or a
  // second one started by mistake) has every Redis state change refused, so it cannot claim,
  // create, stop or reconcile behind this one's back.
  const epoch = await store.acquireEpoch();
  logger.info({ epoch }, 'host epoch acquired');
  store.onFenced = () => {
    logger.error({ epoch }, 'a newer pool-manager took over this host; stopping');
    onSuperseded();
  };
  const pools = new PoolRegistry(config.POOLS);
  const agentDirs = config.AGENTS_ENABLED ? await AgentDirs.open(config.AGENT_SOCKET_DIR, config.BERTH_HOST_ID, logger) : undefined;
  const agents = agentDirs && new AgentRegistry(agentDirs, logger);
  // Closed last: commands in flight keep their connections; agents reconnect to the next pool-manager.
  if (agents) onStop(() => agents.closeAll());
  const names = new WorkloadNames(await workspaceNameKey(config.WORKSPACE_NAME_KEY, config.AGENT_SOCKET_DIR, config.BERTH_HOST_ID));
  const llmKeyStore = config.LLM_EGRESS_URL ? (agentDirs ? fileKeyStore(agentDirs) : memoryKeyStore()) : undefined;
  const llm = new LlmKeys(llmKeyStore, natsLlmEgress(nc), store, { egressUrl: config.LLM_EGRESS_URL, hostId: config.BERTH_HOST_ID }, logger);
  const provisioner = new Provisioner(store, driver, config, events, logger, llm, agents);
  const filler = new PoolFiller(store, pools, provisioner, logger, names, new PoolImages(driver, logger));
  onStop(() => filler.stop());
  const volumes = new OwnerVolumes(driver, config, logger);
  const admission = { images: new ImagePolicy(driver, config.ALLOWED_IMAGES), volumes };
  const workspaces = new Workspaces(store, driver, pools, provisioner, filler, events, config, logger, llm, admission, names, agents);
  onStop(() => workspaces.close());
  const activity = new Activity(store);
  const idle = new IdleReaper(store, driver, workspaces, activity, events, config, logger);
  const reconciler = new Reconciler(store, driver, pools, workspaces, filler, config, logger, llm, names, idle, agents);

  // Rebuild from Docker before answering anyone, so a restart never serves stale state.
  await reconciler.run(true);
  const timer = setInterval(() => {
    reconciler.run().catch((err: unknown) => logger.warn({ err }, 'reconcile failed'));
  }, config.RECONCILE_INTERVAL_MS);
  onStop(() => clearInterval(timer));

  const registry = createMetricsRegistry('pool-manager');
  const metrics = registerPoolMetrics(registry, store);
  const setupEvents = config.EVENTS_ENABLED ? jetStreamSetupEvents(nc, logger) : noSetupEvents;
  const setups = new SetupService({ nc, driver, workspaces, pools, config, logger, activity }, new SetupStore(redis, config.BERTH_HOST_ID), setupEvents, redis,
    (phase, ms, outcome) => metrics.setupPhaseSeconds.observe({ phase, outcome }, ms / 1000));
  await setups.recover();
  onStop(() => setups.close());

  const subs = serveHandlers({ nc, workspaces, volumes, store, pools, config, metrics, setups, activity, logger });
  subs.push(...serveStreamHandlers({ nc, workspaces, tickets: new Tickets(redis, workspaces), activity, logger }));
  const heartbeat = new HostHeartbeatPublisher(nc, redis, store, pools, config, logger).start();
  subs.push(heartbeat.sub);
  onStop(() => { heartbeat.stop(); for (const s of subs) s.unsubscribe(); });
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
  return { reconciler, store, workspaces, setups, activity };
}
