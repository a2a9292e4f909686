import { EXEC_DEFAULT_TIMEOUT_MS, ExecBodySchema, ExecResultSchema } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { API_ERRORS, BODY_ERRORS, ID_PARAMS, errorResponses, okResponse, ref } from '../openapi.js';
import { callOptions, containerIdOf, parseBody, type RouteDeps } from './common.js';

/** How much longer than the command's own timeout the gateway waits for pool-manager's answer. */
export const EXEC_REPLY_MARGIN_MS = 5_000;

export const execRoutes: FastifyPluginAsync<RouteDeps> = async (app, { backend }) => {
  app.post('/containers/:id/exec', {
    schema: {
      tags: ['containers'],
      summary: 'Run a command',
      description: `A string runs under \`sh -c\`; an array runs as argv. \`timeout\` is in ms (default ${EXEC_DEFAULT_TIMEOUT_MS}). A command that runs out of time answers 200 with \`timedOut: true\`.`,
      params: ID_PARAMS,
      body: ref(ExecBodySchema),
      response: {
        200: okResponse(ExecResultSchema, 'Exit code and output (each stream capped)'),
        ...errorResponses(...BODY_ERRORS, 'CONTAINER_NOT_FOUND', 'CONTAINER_NOT_RUNNING', ...API_ERRORS),
      },
    },
  }, async (req) => {
    const id = containerIdOf(req.params);
    const body = parseBody(ExecBodySchema, req);
    const timeoutMs = body.timeout ?? EXEC_DEFAULT_TIMEOUT_MS;
    return backend.request(
      'containerExec',
      { id, owner: req.owner, command: body.command, timeoutMs },
      callOptions(req, timeoutMs + EXEC_REPLY_MARGIN_MS),
    );
  });
};
