import { createLogger, createMetricsRegistry, type Logger, type Registry } from '@berth/service-kit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { bearerAuth } from './auth.js';
import type { Backend } from './backend.js';
import { RouteTable, clientErrorHandler, errorHandler, frameworkErrors, notFoundHandler } from './errors.js';
import { registerMetrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import { containerRoutes } from './routes/containers.js';
import { execRoutes } from './routes/exec.js';
import { healthRoutes } from './routes/health.js';
import { logRoutes } from './routes/logs.js';
import type { LogReader } from './logs/log-reader.js';
import { poolRoutes } from './routes/pools.js';
import { GATEWAY_VERSION } from './version.js';

export interface AppOptions {
  backend: Backend;
  /** The bearer token every /api request must carry. */
  apiToken: string;
  /** Defaults to a silent logger. */
  logger?: Logger;
  bodyLimitBytes?: number;
  /** NATS request timeout for calls without one of their own; also the HTTP request-receive timeout. */
  requestTimeoutMs?: number;
  metrics?: Registry;
  version?: string;
  /** Container output (GET /api/containers/:id/logs); the route is absent without it. */
  logs?: LogReader;
}

/**
 * The gateway as a fastify instance, not yet listening (server.ts listens; tests use inject()).
 * Public: /health, /metrics, /docs*. Everything under /api needs the bearer token.
 */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  const version = opts.version ?? GATEWAY_VERSION;
  const loggerInstance: FastifyBaseLogger = opts.logger ?? createLogger('gateway', 'silent');
  const app = Fastify({
    loggerInstance,
    bodyLimit: opts.bodyLimitBytes ?? 1024 * 1024,
    requestTimeout: requestTimeoutMs,
    frameworkErrors,
    clientErrorHandler,
  });

  // Route schemas document the API; they never validate or serialize (the contracts do that).
  app.setValidatorCompiler(() => (value) => ({ value }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // JSON only: a text/plain body is refused with 415 instead of reaching a handler as a string.
  app.removeContentTypeParser('text/plain');

  const auth = bearerAuth(opts.apiToken);
  const routes = new RouteTable();
  const notFound = notFoundHandler(routes);
  app.addHook('onRoute', (route) => routes.add(route.url, route.method));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFound);
  // Unknown routes and wrong methods are answered before the body is read (a bad body cannot turn
  // a 404 into a 400); under /api only after the token is checked, so a stranger learns nothing.
  app.addHook('onRequest', async (req, reply) => {
    if (!req.is404) return;
    if (/^\/api([/?]|$)/.test(req.url)) await auth(req);
    return notFound(req, reply);
  });

  // Swagger first: it documents the routes registered after it.
  await registerOpenApi(app, { version });
  registerMetrics(app, opts.metrics ?? createMetricsRegistry('gateway'));
  await app.register(healthRoutes, { backend: opts.backend, version, startedAt: performance.now() });

  await app.register(async (api) => {
    api.decorateRequest('owner', '');
    api.addHook('onRequest', auth);
    const deps = { backend: opts.backend, requestTimeoutMs };
    await api.register(containerRoutes, deps);
    await api.register(execRoutes, deps);
    await api.register(poolRoutes, deps);
    if (opts.logs) await api.register(logRoutes, { ...deps, logs: opts.logs });
  }, { prefix: '/api' });

  return app;
}
