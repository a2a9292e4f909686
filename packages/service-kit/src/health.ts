import { createServer, type Server } from 'node:http';
import type { Registry } from '@prometheus-io/client';

export interface HealthReport {
  ok: boolean;
  checks: Record<string, boolean>;
}

export type HealthCheck = () => Promise<HealthReport> | HealthReport;

/**
 * A tiny HTTP server for service containers: `GET /health` (200 or 503 with the checks) and
 * `GET /metrics` (Prometheus text). Binds to 127.0.0.1 unless told otherwise.
 */
export async function startHealthServer(opts: { port: number; host?: string; check: HealthCheck; registry: Registry }): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      try {
        if (req.url === '/health') {
          const report = await opts.check();
          res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: report.ok ? 'ok' : 'degraded', checks: report.checks }));
        } else if (req.url === '/metrics') {
          res.writeHead(200, { 'content-type': opts.registry.contentType });
          res.end(await opts.registry.metrics());
        } else {
          res.writeHead(404).end();
        }
      } catch {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"degraded"}');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  return server;
}
