import { BerthError, HostIdParamsSchema, HostIdSchema, HostListSchema, HostViewSchema } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { HostDirectory } from '../hosts/host-view.js';
import { API_ERRORS, errorResponses, okResponse, ref } from '../openapi.js';
import { PAGE_QUERYSTRING, pageOf } from './paging.js';
import { callOptions, type RouteDeps } from './common.js';

const HOST_PARAMS = { type: 'object', properties: { id: ref(HostIdSchema) }, required: ['id'] };

export interface HostRouteDeps extends RouteDeps {
  hosts: HostDirectory;
}

/** The Docker hosts as the gateway hears them (admin scope), and switching new placements off and on. */
export const hostRoutes: FastifyPluginAsync<HostRouteDeps> = async (app, { backend, requestTimeoutMs, hosts }) => {
  const known = (params: unknown): string => {
    const parsed = HostIdParamsSchema.safeParse(params);
    if (!parsed.success || hosts.stateOf(parsed.data.id) === undefined) throw new BerthError('HOST_NOT_FOUND', 'no such Docker host');
    return parsed.data.id;
  };

  app.get(
    '/hosts',
    {
      schema: {
        operationId: 'listHosts',
        tags: ['hosts'],
        summary: 'List the Docker hosts',
        description: 'Ordered by id. `?limit=` pages the list; each page but the last has a `nextCursor` to send back as `?cursor=`.',
        querystring: PAGE_QUERYSTRING,
        response: {
          200: okResponse(HostListSchema, 'Every host heard from: state (up, draining, lost), capacity and use, pools'),
          ...errorResponses('VALIDATION_FAILED', ...API_ERRORS),
        },
      },
    },
    async (req) => {
      const list = hosts.list();
      const { items, nextCursor } = pageOf(list, (h) => h.id, req.query);
      return { hosts: items, count: list.length, ...(nextCursor && { nextCursor }) };
    },
  );

  for (const [action, draining] of [
    ['drain', true],
    ['undrain', false],
  ] as const) {
    app.post(
      `/hosts/:id/${action}`,
      {
        schema: {
          operationId: draining ? 'drainHost' : 'undrainHost',
          tags: ['hosts'],
          summary: draining ? 'Stop placing new workspaces on a host' : 'Place new workspaces on a host again',
          params: HOST_PARAMS,
          response: { 200: okResponse(HostViewSchema, 'The host after the switch'), ...errorResponses('HOST_NOT_FOUND', 'HOST_UNAVAILABLE', ...API_ERRORS) },
        },
      },
      async (req) => {
        const id = known(req.params);
        if (hosts.stateOf(id) === 'lost')
          throw new BerthError('HOST_UNAVAILABLE', `the Docker host ${id} is not answering; retry later`, { retryAfterSeconds: 5 });
        const hb = await backend.request('hostDrain', { draining }, { ...callOptions(req, requestTimeoutMs), hostId: id });
        hosts.heard(hb);
        return hosts.view(id);
      },
    );
  }
};
