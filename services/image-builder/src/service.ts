import { connectNats, drainNats, startHealthServer, type Logger, type Stopper } from '@berth/service-kit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { BUILDS } from '@berth/contracts';
import { Builder } from './builder.js';
import { ensureBuildsConsumer, ensureBuildsStream } from './builds-stream.js';
import type { ImageBuilderConfig } from './config.js';
import { DockerEngine } from './docker-engine.js';
import { collectImages, removeStaleCopies } from './gc.js';
import { collectImageTrees } from './image-trees.js';
import { createBuilderMetrics } from './metrics.js';
import { BuildWorker } from './worker.js';
import { checkBuildNetwork } from './templates/build-network.js';
import { TemplateBuilder } from './templates/template-builder.js';
import { serveTemplates } from './templates/template-handlers.js';

/** Wires image-builder together; every resource it opens is registered with `onStop`. */
export async function startImageBuilder(config: ImageBuilderConfig, logger: Logger, onStop: (s: Stopper) => void): Promise<BuildWorker> {
  const hostId = config.BERTH_HOST_ID;
  const engine = new DockerEngine(config.DOCKER_SOCKET);
  const metrics = createBuilderMetrics();
  /** Main images committed and not tagged yet: the collection leaves them alone. */
  const untagged = new Set<string>();
  const gc = async () => {
    const { removed } = await collectImages(engine, hostId, logger, untagged);
    metrics.collected.inc(removed);
    await collectImageTrees(engine.docker, hostId, logger);
  };

  await checkBuildNetwork(engine.docker, config.TEMPLATE_BUILD_NETWORK);
  // Nothing is building yet: every copy container of this host is left from a crash.
  await removeStaleCopies(engine, hostId, logger);
  await gc();

  const nc = await connectNats({
    url: config.NATS_URL,
    name: `image-builder-${hostId}`,
    user: config.NATS_USER,
    password: config.NATS_PASSWORD,
    hostId,
    logger,
  });
  onStop(() => drainNats(nc));
  const jsm = await jetstreamManager(nc);
  await ensureBuildsStream(jsm, config.BUILDS_MAX_AGE_SECONDS, config.JETSTREAM_REPLICAS);
  const durable = await ensureBuildsConsumer(jsm, hostId, config.BUILD_ACK_WAIT_MS);
  const consumer = await jetstream(nc).consumers.get(BUILDS.stream, durable);

  const builder = new Builder(engine, { hostId, timeoutMs: config.BUILD_TIMEOUT_MS, memoryMb: config.BUILD_MEMORY_MB, untagged }, logger);
  const worker = new BuildWorker(
    consumer,
    builder,
    metrics,
    {
      concurrency: config.BUILD_CONCURRENCY,
      maxAttempts: config.BUILD_MAX_ATTEMPTS,
      retryDelayMs: config.BUILD_RETRY_DELAY_MS,
      ackWaitMs: config.BUILD_ACK_WAIT_MS,
      afterBuild: gc,
    },
    logger,
  );
  worker.start();
  onStop(() => worker.stop());
  const templates = new TemplateBuilder(
    engine.docker,
    {
      hostId,
      workspaceImage: config.WORKSPACE_IMAGE,
      network: config.TEMPLATE_BUILD_NETWORK,
      proxyUrl: config.TEMPLATE_BUILD_PROXY_URL,
      memoryMb: config.BUILD_MEMORY_MB,
      cpuPercent: config.TEMPLATE_BUILD_CPU_PERCENT,
      timeoutMs: config.TEMPLATE_BUILD_TIMEOUT_MS,
    },
    logger,
  );
  serveTemplates(
    nc,
    templates,
    { maxPerOwner: config.MAX_TEMPLATES_PER_OWNER, contextMaxBytes: config.TEMPLATE_CONTEXT_MAX_BYTES, timeoutMs: config.TEMPLATE_BUILD_TIMEOUT_MS },
    logger,
  );

  // Superseded images still used by a workspace at the last try.
  const gcTimer = setInterval(() => {
    gc().catch((err: unknown) => logger.warn({ err }, 'image GC failed'));
  }, config.IMAGE_GC_INTERVAL_MS);
  gcTimer.unref();
  onStop(() => clearInterval(gcTimer));

  if (config.IMAGE_BUILDER_HEALTH_PORT > 0) {
    const health = await startHealthServer({
      port: config.IMAGE_BUILDER_HEALTH_PORT,
      host: config.HEALTH_BIND,
      registry: metrics.registry,
      check: async () => {
        const checks = { nats: !nc.isClosed(), docker: await engine.ping() };
        return { ok: Object.values(checks).every(Boolean), checks };
      },
    });
    onStop(() => new Promise<void>((resolve) => health.close(() => resolve())));
  }
  logger.info({ hostId, durable, concurrency: config.BUILD_CONCURRENCY }, 'image-builder ready');
  return worker;
}
