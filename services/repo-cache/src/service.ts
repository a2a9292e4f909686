import {
  connectNats,
  Counter,
  createMetricsRegistry,
  createRedis,
  drainNats,
  Histogram,
  redactUrl,
  serve,
  startHealthServer,
  type Logger,
  type Stopper,
} from '@berth/service-kit';
import type { RepoCacheConfig } from './config.js';
import { ensureDir, sweepLeftovers } from './mirror.js';
import { RepoLocks } from './repo-lock.js';
import { RepoSyncer, type SyncMetrics } from './syncer.js';

/** Wires repo-cache together; every resource it opens is registered with `onStop`. */
export async function startRepoCache(config: RepoCacheConfig, logger: Logger, onStop: (s: Stopper) => void): Promise<RepoSyncer> {
  ensureDir(config.MIRRORS_DIR);
  const swept = await sweepLeftovers(config.MIRRORS_DIR, config.REPO_FETCH_TIMEOUT_MS + 60_000);
  if (swept > 0) logger.info({ swept }, 'removed half clones and trash left by crashed processes');
  const redis = createRedis({ url: config.REDIS_URL, name: `repo-cache-${config.BERTH_HOST_ID}`, logger });
  onStop(async () => {
    await redis.quit().catch(() => redis.disconnect());
  });

  const registry = createMetricsRegistry('repo-cache');
  const fetches = new Counter({
    name: 'berth_repo_fetches_total',
    help: 'Clones and fetches from upstream, by result',
    labelNames: ['kind', 'result'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'berth_repo_fetch_duration_seconds',
    help: 'Duration of clones and fetches from upstream',
    labelNames: ['kind'],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180, 600],
    registers: [registry],
  });
  const shared = new Counter({
    name: 'berth_repo_sync_shared_total',
    help: 'Sync requests answered without a fetch of their own',
    labelNames: ['reason'],
    registers: [registry],
  });
  const metrics: SyncMetrics = {
    fetched: (kind, result, seconds) => {
      fetches.inc({ kind, result });
      durations.observe({ kind }, seconds);
    },
    shared: (reason) => shared.inc({ reason }),
  };

  const syncer = new RepoSyncer({
    root: config.MIRRORS_DIR,
    upstream: { url: (repo) => `${config.GITHUB_URL}/${repo}.git`, proxy: config.EGRESS_PROXY_URL, timeoutMs: config.REPO_FETCH_TIMEOUT_MS },
    // Mirrors are per host, so are their locks.
    locks: new RepoLocks(redis, `berth:repo-cache:${config.BERTH_HOST_ID}`, { ttlMs: config.REPO_LOCK_TTL_MS, waitMs: config.REPO_LOCK_WAIT_MS }),
    logger,
    metrics,
  });

  const nc = await connectNats({
    url: config.NATS_URL,
    name: `repo-cache-${config.BERTH_HOST_ID}`,
    user: config.NATS_USER,
    password: config.NATS_PASSWORD,
    hostId: config.BERTH_HOST_ID,
    logger,
  });
  onStop(() => drainNats(nc));
  serve(
    nc,
    'repoSync',
    async (req) => {
      logger.debug({ repo: req.repo, branch: req.branch, maxAgeMs: req.maxAgeMs, withToken: req.githubToken !== undefined }, 'sync requested');
      return syncer.sync(req);
    },
    logger,
  );

  if (config.REPO_CACHE_HEALTH_PORT > 0) {
    const health = await startHealthServer({
      port: config.REPO_CACHE_HEALTH_PORT,
      host: config.HEALTH_BIND,
      registry,
      check: async () => {
        const checks = {
          nats: !nc.isClosed(),
          redis: await redis.ping().then(
            () => true,
            () => false,
          ),
        };
        return { ok: Object.values(checks).every(Boolean), checks };
      },
    });
    onStop(() => new Promise<void>((resolve) => health.close(() => resolve())));
  }
  logger.info(
    { mirrors: config.MIRRORS_DIR, upstream: redactUrl(config.GITHUB_URL), proxy: config.EGRESS_PROXY_URL ? redactUrl(config.EGRESS_PROXY_URL) : 'direct' },
    'repo-cache ready',
  );
  return syncer;
}
