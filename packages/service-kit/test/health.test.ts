import type { Server } from 'node:http';
import { freePort } from '@berth/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, createMetricsRegistry, startHealthServer, type HealthReport } from '../src/index.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

async function start(check: () => HealthReport | Promise<HealthReport>) {
  const registry = createMetricsRegistry('health-test');
  const port = await freePort();
  servers.push(await startHealthServer({ port, check, registry }));
  return { base: `http://127.0.0.1:${port}`, registry };
}

describe('startHealthServer', () => {
  it('GET /health is 200 with the checks when healthy', async () => {
    const { base } = await start(() => ({ ok: true, checks: { nats: true, redis: true } }));
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ status: 'ok', checks: { nats: true, redis: true } });
  });

  it('GET /health is 503 with the checks when a check fails, and follows the check as it changes', async () => {
    let redis = false;
    const { base } = await start(async () => ({ ok: redis, checks: { nats: true, redis } }));
    const down = await fetch(`${base}/health`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'degraded', checks: { nats: true, redis: false } });

    redis = true;
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('GET /health is 503 when the check itself throws', async () => {
    const { base } = await start(() => {
      throw new Error('check crashed');
    });
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'degraded' });
  });

  it('GET /metrics serves Prometheus text with default and custom metrics', async () => {
    const { base, registry } = await start(() => ({ ok: true, checks: {} }));
    const counter = new Counter({ name: 'berth_test_things_total', help: 'things', registers: [registry] });
    counter.inc(3);

    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE berth_test_things_total counter');
    expect(text).toMatch(/^berth_test_things_total\{service="health-test"\} 3$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="health-test"\} /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="health-test"\} /m);
  });

  it('anything else is 404', async () => {
    const { base } = await start(() => ({ ok: true, checks: {} }));
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`)).status).toBe(404);
  });

  it('listens on loopback only by default', async () => {
    const port = await freePort();
    const server = await startHealthServer({ port, check: () => ({ ok: true, checks: {} }), registry: createMetricsRegistry('x') });
    servers.push(server);
    expect(server.address()).toMatchObject({ address: '127.0.0.1', port });
  });

  it('rejects when the port is taken', async () => {
    const { base } = await start(() => ({ ok: true, checks: {} }));
    const port = Number(new URL(base).port);
    await expect(startHealthServer({ port, check: () => ({ ok: true, checks: {} }), registry: createMetricsRegistry('y') })).rejects.toThrow(/EADDRINUSE/);
  });
});
