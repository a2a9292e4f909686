import { BerthError, DeleteVolumeReplySchema, VolumeListSchema, VolumeNameParamsSchema, VolumeNameSchema } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { API_ERRORS, errorResponses, okResponse, ref } from '../openapi.js';
import { callOptions, type RouteDeps } from './common.js';
import { PAGE_QUERYSTRING, pageOf } from './paging.js';

const NAME_PARAMS = { type: 'object', properties: { name: ref(VolumeNameSchema) }, required: ['name'] };

/** A name that cannot be a volume is answered like a volume that does not exist. */
function volumeNameOf(params: unknown): string {
  const parsed = VolumeNameParamsSchema.safeParse(params);
  if (!parsed.success) throw new BerthError('VOLUME_NOT_FOUND', 'volume not found');
  return parsed.data.name;
}

/** The caller's named volumes (made by `volumeName` on a create); they outlive containers until deleted. */
export const volumeRoutes: FastifyPluginAsync<RouteDeps> = async (app, { backend, requestTimeoutMs }) => {
  app.get(
    '/volumes',
    {
      schema: {
        operationId: 'listVolumes',
        tags: ['volumes'],
        summary: 'List your named volumes',
        description: 'Ordered by name. `?limit=` pages the list; each page but the last has a `nextCursor` to send back as `?cursor=`.',
        querystring: PAGE_QUERYSTRING,
        response: {
          200: okResponse(VolumeListSchema, 'Your volumes on this host, with the per-owner limit'),
          ...errorResponses('VALIDATION_FAILED', ...API_ERRORS),
        },
      },
    },
    async (req) => {
      const all = await backend.request('volumeList', { owner: req.owner }, callOptions(req, requestTimeoutMs));
      const { items, nextCursor } = pageOf(all.volumes, (v) => v.name, req.query);
      return { ...all, volumes: items, ...(nextCursor && { nextCursor }) };
    },
  );

  app.delete(
    '/volumes/:name',
    {
      schema: {
        operationId: 'deleteVolume',
        tags: ['volumes'],
        summary: 'Remove a named volume and its data',
        params: NAME_PARAMS,
        response: { 200: okResponse(DeleteVolumeReplySchema, 'Removed'), ...errorResponses('VOLUME_NOT_FOUND', 'VOLUME_IN_USE', ...API_ERRORS) },
      },
    },
    async (req) => {
      const name = volumeNameOf(req.params);
      return backend.request('volumeDelete', { name, owner: req.owner }, callOptions(req, requestTimeoutMs));
    },
  );
};
