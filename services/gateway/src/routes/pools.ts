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
          "In configured order, the default pool first; another owner's template pool only to an admin. `?limit=` pages the list; each page but the last has a `nextCursor` to send back as `?cursor=`.",
        querystring: PAGE_QUERYSTRING,
        response: { 200: okResponse(PoolListSchema, 'Pools with configuration and fill level'), ...errorResponses('VALIDATION_FAILED', ...API_ERRORS) },
      },
    },
    async (req) => {
      const all = await backend.request('poolList', {}, callOptions(req, requestTimeoutMs));
      // Another owner's template pool names that owner and their template: an admin sees it, no one else.
      const seen = all.pools.filter((pool) => pool.owner === undefined || pool.owner === req.owner || req.apiKey?.scopes.has('admin'));
      // In configured order (the first is the default pool): the position is the key.
      const positioned = seen.map((pool, i) => ({ pool, key: String(i).padStart(6, '0') }));
      const { items, nextCursor } = pageOf(positioned, (p) => p.key, req.query);
      return { pools: items.map((p) => p.pool), ...(nextCursor && { nextCursor }) };
    },
  );
};
