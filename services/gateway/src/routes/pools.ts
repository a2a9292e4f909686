import { PoolListSchema } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { API_ERRORS, errorResponses, okResponse } from '../openapi.js';
import { callOptions, type RouteDeps } from './common.js';
import { PAGE_QUERYSTRING, pageOf } from './paging.js';

export const poolRoutes: FastifyPluginAsync<RouteDeps> = async (app, { backend, requestTimeoutMs }) => {
  app.get(
    '/pools',
    {
      schema: {
        operationId: 'listPools',
        tags: ['pools'],
        summary: 'List pools',
        description:
          'In configured order, the default pool first. `?limit=` pages the list; each page but the last has a `nextCursor` to send back as `?cursor=`.',
        querystring: PAGE_QUERYSTRING,
        response: { 200: okResponse(PoolListSchema, 'Pools with configuration and fill level'), ...errorResponses('VALIDATION_FAILED', ...API_ERRORS) },
      },
    },
    async (req) => {
      const all = await backend.request('poolList', {}, callOptions(req, requestTimeoutMs));
      // In configured order (the first is the default pool): the position is the key.
      const positioned = all.pools.map((pool, i) => ({ pool, key: String(i).padStart(6, '0') }));
      const { items, nextCursor } = pageOf(positioned, (p) => p.key, req.query);
      return { pools: items.map((p) => p.pool), ...(nextCursor && { nextCursor }) };
    },
  );
};
