import { ContainerViewSchema } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { API_ERRORS, ID_PARAMS, errorResponses, okResponse } from '../openapi.js';
import { callOptions, containerIdOf, type RouteDeps } from './common.js';

const PAUSE_DOC =
  'A paused container keeps its files, ports, setup and LLM key (refused by egress while paused) and does not count against ' +
  "the host's memory budget; its processes are frozen. A command, stream, terminal or setup for it resumes it first unless its " +
  '`autoResume` is off (PATCH), then they answer 409 CONTAINER_PAUSED. Events `paused` / `resumed`. Both are idempotent. ';

/** Pause and resume of a caller's container (docs/pause.md). */
export const pauseRoutes: FastifyPluginAsync<RouteDeps> = async (app, { backend, requestTimeoutMs }) => {
  app.post(
    '/containers/:id/pause',
    {
      schema: {
        operationId: 'pauseContainer',
        tags: ['containers'],
        summary: 'Pause a container',
        description: `${PAUSE_DOC}Takes no body.`,
        params: ID_PARAMS,
        response: { 200: okResponse(ContainerViewSchema, 'The container, state `paused`'), ...errorResponses('CONTAINER_NOT_FOUND', ...API_ERRORS) },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      return backend.request('containerPause', { id, owner: req.owner }, callOptions(req, requestTimeoutMs));
    },
  );

  app.post(
    '/containers/:id/resume',
    {
      schema: {
        operationId: 'resumeContainer',
        tags: ['containers'],
        summary: 'Resume a paused container',
        description: `${PAUSE_DOC}Takes no body. 503 CAPACITY_EXHAUSTED when the host's memory budget has no room for it now.`,
        params: ID_PARAMS,
        response: {
          200: okResponse(ContainerViewSchema, 'The container, state `claimed`'),
          ...errorResponses('CONTAINER_NOT_FOUND', 'CAPACITY_EXHAUSTED', ...API_ERRORS),
        },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      return backend.request('containerResume', { id, owner: req.owner }, callOptions(req, requestTimeoutMs));
    },
  );
};
