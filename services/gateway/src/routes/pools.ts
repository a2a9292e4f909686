import { PoolListSchema } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { API_ERRORS, errorResponses, okResponse } from '../openapi.js';
import { callOptions, type RouteDeps } from './common.js';

export const poolRoutes: FastifyPluginAsync<RouteDeps> = async (app, { backend, requestTimeoutMs }) => {
  app.get('/pools', {
    schema: {
      tags: ['pools'], summary: 'List pools',
      response: { 200: okResponse(PoolListSchema, 'Pools with configuration and fill level'), ...errorResponses(...API_ERRORS) },
    },
  }, async (req) => backend.request('poolList', {}, callOptions(req, requestTimeoutMs)));
};
