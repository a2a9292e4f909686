import { HealthSchema, type Health } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { Backend } from '../backend.js';
import { PUBLIC, okResponse } from '../openapi.js';
import { callOptions } from './common.js';

/** How long /health waits for pool-manager before calling itself degraded. */
export const HEALTH_BACKEND_TIMEOUT_MS = 1_000;

export interface HealthDeps {
  backend: Backend;
  version: string;
  /** performance.now() when the gateway started. */
  startedAt: number;
}

export const healthRoutes: FastifyPluginAsync<HealthDeps> = async (app, { backend, version, startedAt }) => {
  app.get(
    '/health',
    {
      schema: {
        operationId: 'getHealth',
        ...PUBLIC,
        tags: ['system'],
        summary: 'Liveness and pool-manager reachability',
        response: {
          200: okResponse(HealthSchema, 'Healthy'),
          503: okResponse(HealthSchema, 'Degraded: pool-manager did not answer in time'),
        },
      },
    },
    async (req, reply) => {
      const uptime = Math.floor((performance.now() - startedAt) / 1000);
      let health: Health;
      try {
        const status = await backend.request('hostStatus', {}, callOptions(req, HEALTH_BACKEND_TIMEOUT_MS));
        health = { status: 'ok', containerCount: status.containers.total, uptime, version };
      } catch (err) {
        req.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'health: pool-manager did not answer');
        health = { status: 'degraded', containerCount: 0, uptime, version };
      }
      return reply.code(health.status === 'ok' ? 200 : 503).send(health);
    },
  );
};
