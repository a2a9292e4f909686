import { BerthError, HealthSchema, type HostStatus } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { HEALTH_BACKEND_TIMEOUT_MS } from '../src/routes/health.js';
import { build } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const hostStatus: HostStatus = {
  hostId: 'local',
  containers: { total: 7, warm: 3, claimed: 4, creating: 0 },
  capacity: { maxContainers: 50, maxMemoryMb: 16_384, usedMemoryMb: 3_584 },
};

describe('GET /health', () => {
  it('is ok with the container count when pool-manager answers', async () => {
    let backend;
    ({ app, backend } = await build({ hostStatus: () => hostStatus }, { version: '9.9.9' }));
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    const body = HealthSchema.parse(res.json());
    expect(body).toMatchObject({ status: 'ok', containerCount: 7, version: '9.9.9' });
    expect(body.uptime).toBeGreaterThanOrEqual(0);
    expect(backend.calls[0]).toMatchObject({ key: 'hostStatus', data: {}, opts: { timeoutMs: HEALTH_BACKEND_TIMEOUT_MS } });
    expect(HEALTH_BACKEND_TIMEOUT_MS).toBe(1_000);
  });

  it.each([
    [
      'times out',
      () => {
        throw new BerthError('TIMEOUT', 'no answer');
      },
    ],
    [
      'has no responders',
      () => {
        throw new BerthError('SERVICE_UNAVAILABLE', 'nobody', { retryAfterSeconds: 1 });
      },
    ],
    [
      'throws a bug',
      () => {
        throw new Error('boom');
      },
    ],
  ])('is 503 degraded with containerCount 0 when pool-manager %s', async (_name, fail) => {
    ({ app } = await build({ hostStatus: fail }));
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(HealthSchema.parse(res.json())).toMatchObject({ status: 'degraded', containerCount: 0 });
  });

  it('reports the package version by default', async () => {
    ({ app } = await build({ hostStatus: () => hostStatus }));
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.json<{ version: string }>().version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
