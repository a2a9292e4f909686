import { connectNats, createLogger, drainNats, loadConfigOrExit, runService, type ServiceHandle } from '@berth/service-kit';
import { buildApp } from './app.js';
import { natsBackend } from './backend.js';
import { listenToHeartbeats } from './hosts/heartbeat-listener.js';
import { hostCheckedStreams, hostRoutedBackend } from './hosts/host-backend.js';
import { HostDirectory } from './hosts/host-view.js';
import { JetStreamLogReader } from './logs/jetstream-reader.js';
import { loadGatewayConfig } from './config.js';
import { KeyRing } from './keys/api-key.js';
import { loadKeysFile, watchKeysFile } from './keys/key-file.js';
import { natsStreams } from './streams/nats-streams.js';

/**
 * Loads config, connects to NATS, listens. On SIGTERM/SIGINT: stop listening and finish in-flight
 * requests first, then drain NATS (stoppers run in reverse order of registration).
 */
export async function startServer(env: Record<string, string | undefined> = process.env): Promise<ServiceHandle> {
  const config = loadConfigOrExit('gateway', () => loadGatewayConfig(env));
  const logger = createLogger('gateway', config.LOG_LEVEL);
  return runService({
    name: 'gateway',
    logger,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    start: async (onStop) => {
      const nc = await connectNats({
        url: config.NATS_URL,
        name: `gateway-${config.BERTH_HOST_ID}`,
        user: config.NATS_USER,
        password: config.NATS_PASSWORD,
        // Workspace ids that name no host are this gateway's own host's (single-host installs).
        hostId: config.BERTH_HOST_ID,
        logger,
      });
      onStop(() => drainNats(nc));
      const keys = KeyRing.withToken(config.BERTH_API_TOKEN, config.BERTH_API_KEYS_FILE ? loadKeysFile(config.BERTH_API_KEYS_FILE) : []);
      if (config.BERTH_API_KEYS_FILE) onStop(watchKeysFile(config.BERTH_API_KEYS_FILE, keys, logger, config.KEYS_RELOAD_INTERVAL_MS));
      logger.info({ keys: keys.size, keysFile: config.BERTH_API_KEYS_FILE, apiToken: config.BERTH_API_TOKEN !== undefined }, 'API keys loaded');
      const hosts = new HostDirectory(config.HOST_LOST_AFTER_MS);
      onStop(listenToHeartbeats(nc, hosts, logger));
      const app = await buildApp({
        backend: hostRoutedBackend(natsBackend(nc, { timeoutMs: config.REQUEST_TIMEOUT_MS }), {
          directory: hosts,
          policy: config.HOST_PLACEMENT,
          fallbackHost: config.BERTH_HOST_ID,
        }),
        streams: hostCheckedStreams(
          natsStreams(nc, logger, { timeoutMs: config.REQUEST_TIMEOUT_MS, leaseMs: config.STREAM_LEASE_MS }),
          hosts,
          config.BERTH_HOST_ID,
        ),
        hosts,
        templates: {
          hosts: () => (hosts.size === 0 ? [config.BERTH_HOST_ID] : hosts.reachable()),
          contextMaxBytes: config.TEMPLATE_CONTEXT_MAX_BYTES,
          buildTimeoutMs: config.TEMPLATE_BUILD_TIMEOUT_MS,
        },
        keys,
        logger,
        bodyLimitBytes: config.BODY_LIMIT_BYTES,
        requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
        trustProxy: config.TRUST_PROXY,
        corsOrigins: config.CORS_ORIGINS,
        rateLimit: { rps: config.RATE_LIMIT_RPS, burst: config.RATE_LIMIT_BURST, authFailuresPerMinute: config.AUTH_FAILURES_PER_MINUTE },
        logs: await JetStreamLogReader.create(nc),
        preview: {
          upstreamHost: config.PREVIEW_UPSTREAM_HOST,
          domain: config.BERTH_PREVIEW_DOMAIN,
          publicUrl: config.BERTH_PUBLIC_URL,
          activityEveryMs: config.PREVIEW_ACTIVITY_EVERY_MS,
          resolveCacheMs: config.PREVIEW_RESOLVE_CACHE_MS,
        },
      });
      onStop(() => app.close());
      await app.listen({ port: config.BERTH_PORT, host: config.BERTH_BIND });
    },
  });
}
