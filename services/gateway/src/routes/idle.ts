import { IdleStateSchema, UpdateContainerBodySchema } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { API_ERRORS, BODY_ERRORS, ID_PARAMS, errorResponses, okResponse, ref } from '../openapi.js';
import { callOptions, containerIdOf, parseBody, type RouteDeps } from './common.js';

const IDLE_DOC =
  "A claimed container is removed once nothing used it for its idle timeout (the host's default unless set here): " +
  'no command started, no command, stream or terminal running, no followed log stream, no network traffic. ' +
  'An `idle-warning` event (`berth.evt.container.<id>.idle-warning`, with `reapAt`) comes before the removal (`removed`, reason `idle`). ';

/** Idle timeout and keepalive of a caller's container (E2B's `setTimeout` is the model). */
export const idleRoutes: FastifyPluginAsync<RouteDeps> = async (app, { backend, requestTimeoutMs }) => {
  app.patch(
    '/containers/:id',
    {
      schema: {
        operationId: 'updateContainer',
        tags: ['containers'],
        summary: "Set a container's idle timeout and pause settings",
        description: `${IDLE_DOC}\`onIdle: "pause"\` pauses it instead (then it is removed after the paused retention); \`autoResume: false\` makes commands for it answer 409 CONTAINER_PAUSED while paused. Setting the timeout counts as activity: the new timeout runs from now. At most the host's maximum (IDLE_TIMEOUT_TOO_LONG otherwise).`,
        params: ID_PARAMS,
        body: ref(UpdateContainerBodySchema),
        response: {
          200: okResponse(IdleStateSchema, 'The timeout in force and when the container is removed if it stays idle'),
          ...errorResponses('IDLE_TIMEOUT_TOO_LONG', 'CONTAINER_NOT_FOUND', ...BODY_ERRORS, ...API_ERRORS),
        },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      const body = parseBody(UpdateContainerBodySchema, req);
      return backend.request('containerKeepalive', { id, owner: req.owner, ...body }, callOptions(req, requestTimeoutMs));
    },
  );

  app.post(
    '/containers/:id/keepalive',
    {
      schema: {
        operationId: 'keepContainerAlive',
        tags: ['containers'],
        summary: 'Count as activity now',
        description: `${IDLE_DOC}A keepalive starts the idle timeout again. Takes no body.`,
        params: ID_PARAMS,
        response: {
          200: okResponse(IdleStateSchema, 'The timeout in force and when the container is removed if it stays idle'),
          ...errorResponses('CONTAINER_NOT_FOUND', ...API_ERRORS),
        },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      return backend.request('containerKeepalive', { id, owner: req.owner }, callOptions(req, requestTimeoutMs));
    },
  );
};
