import { Counter, Histogram, type Registry } from '@berth/service-kit';
import type { FastifyInstance } from 'fastify';
import { PUBLIC } from './openapi.js';

const EXEC_ROUTE = '/api/containers/:id/exec';
const isStream = (query: unknown) => ['true', '1'].includes(String((query as { stream?: unknown } | undefined)?.stream));

/**
 * `GET /metrics` (Prometheus text, public like /health) and a request duration histogram. The
 * route label is the route pattern, never the raw URL, so ids and probes cannot blow up cardinality.
 */
export function registerMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'berth_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });

  const execs = new Counter({
    name: 'berth_exec_requests_total',
    help: 'Exec requests by mode (sync or stream) and HTTP status; a streamed exec counts when its stream ends',
    labelNames: ['mode', 'status'] as const,
    registers: [registry],
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.is404 ? 'unmatched' : (req.routeOptions.url ?? 'unmatched');
    const status = String(reply.statusCode);
    duration.observe({ method: req.method, route, status }, reply.elapsedTime / 1000);
    if (route === EXEC_ROUTE && req.method === 'POST') execs.inc({ mode: isStream(req.query) ? 'stream' : 'sync', status });
  });

  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getMetrics',
        ...PUBLIC,
        tags: ['system'],
        summary: 'Prometheus metrics',
        produces: ['text/plain'],
        response: { 200: { description: 'Prometheus text exposition format', type: 'string' } },
      },
    },
    async (_req, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    },
  );
}
