import { createLogger, createMetricsRegistry, requestSerializer, traceIdOf, type Logger, type Registry } from '@berth/service-kit';
import { WS_MAX_MESSAGE_BYTES } from '@berth/contracts';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { checkScope } from './auth.js';
import { TERMINAL_PROTOCOL, bearerOrTicketAuth } from './auth-ticket.js';
import { ignoreTypeOfEmptyBody } from './empty-body.js';
import { webSocketErrorHandler } from './ws-errors.js';
import { corsHook } from './cors.js';
import type { Backend } from './backend.js';
import { KeyRing } from './keys/api-key.js';
import { assertScoped } from './keys/scopes.js';
import { RouteTable, clientErrorHandler, errorHandler, frameworkErrors, notFoundHandler } from './errors.js';
import { registerMetrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import { containerRoutes } from './routes/containers.js';
import { idleRoutes } from './routes/idle.js';
import { llmKeyRoutes } from './routes/llm.js';
import { pauseRoutes } from './routes/pause.js';
import { execRoutes } from './routes/exec.js';
import { healthRoutes } from './routes/health.js';
import { hostRoutes } from './routes/hosts.js';
import type { HostDirectory } from './hosts/host-view.js';
import { logRoutes } from './routes/logs.js';
import type { LogReader } from './logs/log-reader.js';
import { poolRoutes } from './routes/pools.js';
import { setupRoutes } from './routes/setup.js';
import { fileRoutes } from './routes/files.js';
import { fileWatchRoutes } from './routes/files-watch.js';
import { terminalRoutes } from './routes/terminal.js';
import { ticketRoutes } from './routes/tickets.js';
import { unavailableStreams, type StreamBackend } from './streams/stream-backend.js';
import { DEFAULT_RATE_LIMIT, withRateLimits, type RateLimitOptions } from './rate-limit.js';
import { GATEWAY_VERSION } from './version.js';
import { echoRequestId, requestIdOf } from './request-id.js';
import { traceHttpRequests, traceOf } from './trace.js';
import { uiRoutes } from './routes/ui.js';
import { volumeRoutes } from './routes/volumes.js';
import { templateRoutes, type TemplateOptions } from './routes/templates.js';
import { registerPreviews, type PreviewOptions } from './preview/register-previews.js';

export interface AppOptions {
  backend: Backend;
  /** Streaming exec and terminals; without it they answer SERVICE_UNAVAILABLE. */
  streams?: StreamBackend;
  /** The API keys /api accepts (reloadable). */
  keys?: KeyRing;
  /** Shorthand for `keys: KeyRing.fromToken(apiToken)`: one admin key of owner 'default'. */
  apiToken?: string;
  /** Defaults to a silent logger. */
  logger?: Logger;
  bodyLimitBytes?: number;
  /** NATS request timeout for calls without one of their own; also the HTTP request-receive timeout. */
  requestTimeoutMs?: number;
  metrics?: Registry;
  version?: string;
  /** fastify's trustProxy (TRUST_PROXY): off by default, so X-Forwarded-For is ignored. */
  trustProxy?: false | number | string[];
  /** Per-caller and failed-auth limits on /api; defaults to DEFAULT_RATE_LIMIT. */
  rateLimit?: RateLimitOptions;
  /** How long a streaming exec may be silent before the client gets a keepalive; EXEC_STREAM_KEEPALIVE_MS by default. */
  execStreamKeepaliveMs?: number;
  /** Container output (GET /api/containers/:id/logs); the route is absent without it. */
  logs?: LogReader;
  /** How often a followed log stream tells pool-manager its container is in use, ms (60 s by default). */
  logActivityEveryMs?: number;
  /** Browser origins that get CORS headers (CORS_ORIGINS); none by default. */
  corsOrigins?: readonly string[];
  /** Preview URLs of workspace ports (docs/previews.md): upstream address, preview domain, public URL. */
  preview?: PreviewOptions;
  /** The Docker hosts heard from (GET /api/hosts, drain); the routes are absent without it. */
  hosts?: HostDirectory;
  /** Templates (POST/GET/DELETE /api/templates): the hosts to build on and the limits; the routes are absent without it. */
  templates?: TemplateOptions;
}

/**
 * fastify's trustProxy. A hop count trusts that many addresses from the socket's end of
 * X-Forwarded-For whoever the peer is (fastify 5 itself trusts nothing for a number, as it cannot
 * check the peer): only for a gateway that proxies alone can reach; a CIDR list is the safer choice.
 */
function trustProxyOf(t: AppOptions['trustProxy']): boolean | string[] | ((addr: string, hop: number) => boolean) {
  if (typeof t === 'number') return (_addr, hop) => hop < t;
  return t ?? false;
}

/**
 * The gateway as a fastify instance, not yet listening (server.ts listens; tests use inject()).
 * Public: /health, /metrics, /docs*. Everything under /api needs an API key holding the route's
 * scope (keys/scopes.ts).
 */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  const version = opts.version ?? GATEWAY_VERSION;
  // Request lines log the URL with its `?ticket=`/`?token=` values redacted.
  const loggerInstance: FastifyBaseLogger = (opts.logger ?? createLogger('gateway', 'silent')).child({}, { serializers: { req: requestSerializer } });
  const app = Fastify({
    loggerInstance,
    // Every line logged for a request (its own and fastify's) carries the request's trace id.
    childLoggerFactory: (logger, bindings, opts, raw) => logger.child({ ...bindings, trace_id: traceIdOf(traceOf(raw)) }, opts),
    // The client address (failed-auth limits, request lines) comes from X-Forwarded-For only
    // through proxies the operator named.
    trustProxy: trustProxyOf(opts.trustProxy),
    bodyLimit: opts.bodyLimitBytes ?? 1024 * 1024,
    requestTimeout: requestTimeoutMs,
    frameworkErrors,
    clientErrorHandler,
    genReqId: requestIdOf,
  });

  // Route schemas document the API; they never validate or serialize (the contracts do that).
  app.setValidatorCompiler(() => (value) => ({ value }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // JSON only: a text/plain body is refused with 415 instead of reaching a handler as a string.
  app.removeContentTypeParser('text/plain');

  const limits = opts.rateLimit ?? DEFAULT_RATE_LIMIT;
  const keys = opts.keys ?? (opts.apiToken !== undefined ? KeyRing.fromToken(opts.apiToken) : undefined);
  if (!keys) throw new Error('buildApp needs keys or apiToken');
  // The bearer token, or a ticket on the routes that take one (auth-ticket.ts).
  const auth = withRateLimits(bearerOrTicketAuth(keys, opts.backend), limits);
  const scoped = (inner: (req: FastifyRequest, reply: FastifyReply) => Promise<void>) => async (req: FastifyRequest, reply: FastifyReply) => {
    await inner(req, reply);
    checkScope(req);
  };
  traceHttpRequests(app);
  app.addHook('onRequest', echoRequestId);
  // Host-form previews (`<port>-<id>.<domain>`) are the workspace's origin, not the API's: right after the request id.
  const previews = registerPreviews(app, {
    backend: opts.backend,
    keys,
    requestTimeoutMs,
    logger: opts.logger,
    shareFailuresPerMinute: limits.authFailuresPerMinute,
    ...(limits.now && { now: limits.now }),
    ...opts.preview,
  });
  // Then: a preflight is answered before authentication and before the unknown-route check.
  app.addHook('onRequest', corsHook(opts.corsOrigins ?? []));
  const routes = new RouteTable();
  const notFound = notFoundHandler(routes);
  app.addHook('onRoute', (route) => routes.add(route.url, route.method));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFound);
  // Unknown routes and wrong methods are answered before the body is read (a bad body cannot turn
  // a 404 into a 400); under /api only after the token is checked, so a stranger learns nothing.
  app.addHook('onRequest', async (req, reply) => {
    ignoreTypeOfEmptyBody(req);
    if (!req.is404) return;
    if (/^\/api([/?]|$)/.test(req.url)) await auth(req, reply);
    return notFound(req, reply);
  });

  // Swagger first: it documents the routes registered after it.
  await registerOpenApi(app, { version });
  registerMetrics(app, opts.metrics ?? createMetricsRegistry('gateway'));
  await app.register(healthRoutes, { backend: opts.backend, version, startedAt: performance.now() });
  await app.register(uiRoutes);
  await app.register(websocket, {
    errorHandler: webSocketErrorHandler,
    options: {
      maxPayload: WS_MAX_MESSAGE_BYTES,
      handleProtocols: (protocols) => (protocols.has(TERMINAL_PROTOCOL) ? TERMINAL_PROTOCOL : false),
    },
  });
  const streams = opts.streams ?? unavailableStreams;

  await app.register(
    async (api) => {
      api.decorateRequest('owner', '');
      api.decorateRequest('apiKey', undefined);
      api.addHook('onRoute', (route) => assertScoped(route.method, route.url));
      api.addHook('onRequest', scoped(auth));
      const deps = { backend: opts.backend, requestTimeoutMs };
      await api.register(containerRoutes, deps);
      await api.register(llmKeyRoutes, deps);
      await api.register(idleRoutes, deps);
      await api.register(pauseRoutes, deps);
      await api.register(execRoutes, { ...deps, streams, keepaliveMs: opts.execStreamKeepaliveMs });
      await api.register(setupRoutes, deps);
      await api.register(poolRoutes, deps);
      await api.register(volumeRoutes, deps);
      await api.register(ticketRoutes, deps);
      if (opts.logs) await api.register(logRoutes, { ...deps, logs: opts.logs, ...(opts.logActivityEveryMs && { activityEveryMs: opts.logActivityEveryMs }) });
      await api.register(terminalRoutes, { streams });
      await api.register(fileRoutes, { ...deps, streams });
      await api.register(fileWatchRoutes, { streams });
      await api.register(previews.apiRoutes);
      if (opts.hosts) await api.register(hostRoutes, { ...deps, hosts: opts.hosts });
      if (opts.templates) await api.register(templateRoutes, { ...deps, streams, ...opts.templates });
    },
    { prefix: '/api' },
  );
  await app.register(previews.shareRoutes);

  return app;
}
