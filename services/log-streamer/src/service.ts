import { connectNats, createMetricsRegistry, drainNats, serve, startHealthServer, type Logger, type Stopper } from '@berth/service-kit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { LogStreamerConfig } from './config.js';
import type { ContainerSource } from './container-source.js';
import { DockerSource } from './docker-source.js';
import { JetStreamLogStore } from './log-store.js';
import { registerLogMetrics } from './metrics.js';
import { SetupAppender } from './setup-appender.js';
import { LogStreamer } from './streamer.js';

/** Wires log-streamer together; every resource it opens is registered with `onStop`. */
export async function startLogStreamer(
  config: LogStreamerConfig,
  logger: Logger,
  onStop: (s: Stopper) => void,
  source: ContainerSource = new DockerSource(config.DOCKER_SOCKET),
): Promise<LogStreamer> {
  const nc = await connectNats({
    url: config.NATS_URL,
    name: `log-streamer-${config.BERTH_HOST_ID}`,
    user: config.NATS_USER,
    password: config.NATS_PASSWORD,
    logger,
  });
  onStop(() => drainNats(nc));
  const store = await JetStreamLogStore.start(
    nc,
    { maxAgeSeconds: config.LOGS_MAX_AGE_SECONDS, maxBytes: config.LOGS_MAX_BYTES, replicas: config.JETSTREAM_REPLICAS },
    config.LOGS_MAX_IN_FLIGHT,
  );

  const registry = createMetricsRegistry('log-streamer');
  // Read at scrape time, once the streamer exists.
  const { lines } = registerLogMetrics(registry, () => streamer.following);
  const streamer = new LogStreamer(
    source,
    store,
    {
      hostId: config.BERTH_HOST_ID,
      rescanIntervalMs: config.LOGS_RESCAN_INTERVAL_MS,
      maxLineBytes: config.LOGS_MAX_LINE_BYTES,
      resumeSlackMs: config.LOGS_RESUME_SLACK_MS,
      onRecords: (n) => lines.inc(n),
    },
    logger,
  );
  await streamer.start();
  onStop(() => streamer.stop());
  const appender = new SetupAppender(jetstream(nc), await jetstreamManager(nc, { checkAPI: false }));
  serve(nc, 'logsAppend', (req) => appender.append(req), logger);

  if (config.LOG_STREAMER_HEALTH_PORT > 0) {
    const health = await startHealthServer({
      port: config.LOG_STREAMER_HEALTH_PORT,
      host: config.HEALTH_BIND,
      registry,
      check: async () => {
        const checks = { nats: !nc.isClosed(), docker: await source.ping() };
        return { ok: Object.values(checks).every(Boolean), checks };
      },
    });
    onStop(() => new Promise<void>((resolve) => health.close(() => resolve())));
  }
  return streamer;
}
