import { SetupBodySchema, SetupStatusSchema } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { API_ERRORS, BODY_ERRORS, ID_PARAMS, errorResponses, okResponse, ref } from '../openapi.js';
import { callOptions, containerIdOf, parseBody, type RouteDeps } from './common.js';

/** Accepting a setup may wait for egress to check the callback URL (DNS included). */
const SETUP_START_TIMEOUT_MS = 15_000;

export const setupRoutes: FastifyPluginAsync<RouteDeps> = async (app, { backend, requestTimeoutMs }) => {
  app.post(
    '/containers/:id/setup',
    {
      schema: {
        operationId: 'startSetup',
        tags: ['containers'],
        summary: 'Set up a repository in a container',
        description:
          'Clones `repo` at `branch`, installs its dependencies and starts its dev server, in the background. ' +
          'Answers 202 with the first status (phase `queued`); follow it with GET on the same path, the callback, or the EVENTS stream. ' +
          'Phases: queued → cloning → installing → starting → ready, or failed with `error` and `logTail`. ' +
          '`githubToken` is only used to fetch the repository; it never enters the container. Callbacks are signed ' +
          '(`x-berth-signature: sha256=<hex HMAC-SHA256 of "<x-berth-timestamp>.<body>" under callbackSecret>`).',
        params: ID_PARAMS,
        body: ref(SetupBodySchema),
        response: {
          202: okResponse(SetupStatusSchema, 'Accepted: the first status'),
          ...errorResponses(...BODY_ERRORS, 'CALLBACK_URL_REFUSED', 'CONTAINER_NOT_FOUND', 'SETUP_IN_PROGRESS', ...API_ERRORS),
        },
      },
    },
    async (req, reply) => {
      const id = containerIdOf(req.params);
      const body = parseBody(SetupBodySchema, req);
      const status = await backend.request('setupStart', { id, owner: req.owner, body }, callOptions(req, Math.max(requestTimeoutMs, SETUP_START_TIMEOUT_MS)));
      return reply.code(202).send(status);
    },
  );

  app.get(
    '/containers/:id/setup',
    {
      schema: {
        operationId: 'getSetupStatus',
        tags: ['containers'],
        summary: 'The latest setup status of a container',
        params: ID_PARAMS,
        response: { 200: okResponse(SetupStatusSchema, 'The setup status'), ...errorResponses('CONTAINER_NOT_FOUND', 'SETUP_NOT_FOUND', ...API_ERRORS) },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      return backend.request('setupGet', { id, owner: req.owner }, callOptions(req, requestTimeoutMs));
    },
  );
};
