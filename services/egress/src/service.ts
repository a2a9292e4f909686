import {
  connectNats,
  Counter,
  createMetricsRegistry,
  createRedis,
  drainNats,
  Gauge,
  serve,
  startHealthServer,
  type Logger,
  type Stopper,
} from '@berth/service-kit';
import { parseCidrs, type EgressConfig } from './config.js';
import { CallbackConsumer } from './callbacks/consumer.js';
import { Deliverer } from './callbacks/deliverer.js';
import { registerHandler } from './callbacks/register.js';
import { Registrations } from './callbacks/registrations.js';
import { SecretBox } from './callbacks/secret-box.js';
import { sendAttempt } from './callbacks/send.js';
import { selfAddressCheck } from './llm/self-address.js';
import { startLlm } from './llm/wire.js';
import { AllowList, entryForUrl, parseAllowList } from './proxy/allow-list.js';
import { listenOnEach } from './proxy/listen.js';
import { createProxyServer } from './proxy/server.js';
import { AddressPolicy } from './ssrf/addresses.js';
import { SsrfGuard, systemResolver, type Resolver } from './ssrf/guard.js';

/** Wires egress together; every resource it opens is registered with `onStop`. */
export async function startEgress(config: EgressConfig, logger: Logger, onStop: (s: Stopper) => void, resolver: Resolver = systemResolver): Promise<void> {
  const registry = createMetricsRegistry('egress');
  const proxyRequests = new Counter({
    name: 'berth_egress_proxy_requests_total',
    help: 'Proxy requests by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const registrations = new Counter({
    name: 'berth_callback_registrations_total',
    help: 'Callback registrations by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'berth_callback_attempts_total',
    help: 'Callback HTTP attempts by result',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const statuses = new Counter({
    name: 'berth_callback_statuses_total',
    help: 'Setup statuses by delivery outcome (delivered, gave_up, skipped, invalid)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  // Stoppers run in reverse: NATS drains (answering requests in flight) before Redis quits.
  const redis = createRedis({ url: config.REDIS_URL, name: 'egress', logger });
  onStop(async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  const nc = await connectNats({
    url: config.NATS_URL,
    name: `egress-${config.BERTH_HOST_ID}`,
    user: config.NATS_USER,
    password: config.NATS_PASSWORD,
    logger,
  });
  onStop(() => drainNats(nc));

  const guard = new SsrfGuard(new AddressPolicy(parseCidrs(config.CALLBACK_ALLOW_CIDRS)), resolver);
  const store = new Registrations(redis, new SecretBox(config.EGRESS_SECRET_KEY), config.CALLBACK_TTL_SECONDS, logger);
  serve(nc, 'callbackRegister', registerHandler(guard, store, registrations, logger), logger);

  if (config.CALLBACK_DELIVERY_ENABLED) {
    const deliverer = new Deliverer(
      {
        maxAttempts: config.CALLBACK_MAX_ATTEMPTS,
        retryBaseMs: config.CALLBACK_RETRY_BASE_MS,
        retryMaxMs: config.CALLBACK_RETRY_MAX_MS,
        lookup: (id) => store.get(id),
        send: (a, signal) => sendAttempt(guard, a, config.CALLBACK_TIMEOUT_MS, signal),
        onAttempt: (ok) => attempts.inc({ result: ok ? 'ok' : 'failed' }),
      },
      logger,
    );
    const consumer = new CallbackConsumer(
      nc,
      {
        ackWaitMs: config.CALLBACK_ACK_WAIT_MS,
        maxPending: config.CALLBACK_MAX_PENDING,
        concurrency: config.CALLBACK_CONCURRENCY,
        deliver: (status, signal) => deliverer.deliver(status, signal),
        onOutcome: (outcome) => statuses.inc({ outcome }),
      },
      logger,
    );
    consumer.start();
    onStop(() => consumer.stop());
    new Gauge({
      name: 'berth_callback_pending',
      help: 'Setup statuses fetched and not yet acked',
      registers: [registry],
      collect() {
        this.set(consumer.pending);
      },
    });
  }

  const llm = startLlm(config, registry, redis, nc, logger);
  onStop(llm.stop);

  if (config.EGRESS_PROXY_PORT > 0) {
    const binds = config.EGRESS_PROXY_BIND.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const allow = new AllowList([...parseAllowList(config.EGRESS_ALLOW_HOSTS), entryForUrl(config.GITHUB_URL)]);
    const make = () =>
      createProxyServer(
        {
          allow,
          connectTimeoutMs: config.EGRESS_CONNECT_TIMEOUT_MS,
          idleTimeoutMs: config.EGRESS_IDLE_TIMEOUT_MS,
          onOutcome: (kind, outcome) => proxyRequests.inc({ kind, outcome }),
          llm: { handle: llm.handle, isSelf: selfAddressCheck(binds, config.EGRESS_PROXY_PORT) },
        },
        logger,
      );
    onStop(await listenOnEach(make, binds, config.EGRESS_PROXY_PORT, logger));
  }

  // Started means serving: the server has every subscription before the health check says ok.
  await nc.flush();

  if (config.EGRESS_HEALTH_PORT > 0) {
    const health = await startHealthServer({
      port: config.EGRESS_HEALTH_PORT,
      host: config.HEALTH_BIND,
      registry,
      check: () => {
        const checks = { nats: !nc.isClosed(), redis: redis.status === 'ready' };
        return { ok: Object.values(checks).every(Boolean), checks };
      },
    });
    onStop(() => new Promise<void>((resolve) => health.close(() => resolve())));
  }
}
