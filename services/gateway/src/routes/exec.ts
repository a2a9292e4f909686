import { EXEC_DEFAULT_TIMEOUT_MS, EXEC_STREAM_KEEPALIVE_MS, ExecBodySchema, ExecResultSchema, ExecStreamEventSchema } from '@berth/contracts';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { API_ERRORS, BODY_ERRORS, ID_PARAMS, errorResponses, ref } from '../openapi.js';
import type { StreamBackend } from '../streams/stream-backend.js';
import { callOptions, containerIdOf, parseBody, type RouteDeps } from './common.js';
import { streamExec } from './exec-stream.js';

const STREAM_DESCRIPTION = `With \`?stream=true\` the answer is a stream of \`ExecStreamEvent\`s as the command runs: NDJSON (\`application/x-ndjson\`) by default, Server-Sent Events when \`Accept: text/event-stream\` (event name = \`type\`, id = sequence). \`stdout\`/\`stderr\` events come as output happens; the last is \`exit\` (or \`error\`: \`CONTAINER_DELETED\` when the container was deleted under the command). A slow reader pauses the command (output is never dropped); closing the connection kills the command and everything it started. The headers come at once, and while the command is silent a keepalive at least every ${EXEC_STREAM_KEEPALIVE_MS / 1000} s: an empty line (NDJSON) or an SSE comment (\`: keepalive\`).`;

function wantsStream(req: FastifyRequest): boolean {
  const { stream } = (req.query ?? {}) as { stream?: unknown };
  return stream === 'true' || stream === '1';
}

/** How much longer than the command's own timeout the gateway waits for pool-manager's answer. */
export const EXEC_REPLY_MARGIN_MS = 5_000;

export const execRoutes: FastifyPluginAsync<RouteDeps & { streams: StreamBackend; keepaliveMs?: number }> = async (app, { backend, streams, keepaliveMs }) => {
  app.post(
    '/containers/:id/exec',
    {
      // A browser may stream with a single-use ticket (`?stream=true&ticket=`); a plain exec needs the token.
      config: { ticket: wantsStream },
      schema: {
        operationId: 'execCommand',
        tags: ['containers'],
        summary: 'Run a command',
        description: `A string runs under \`sh -c\`; an array runs as argv. \`timeout\` is in ms (default ${EXEC_DEFAULT_TIMEOUT_MS}). A command that runs out of time is killed with every process it started and answers 200 with \`timedOut: true\`. \`env\` adds variables, \`cwd\` sets the directory (default /workspace).\n\n${STREAM_DESCRIPTION}`,
        querystring: {
          type: 'object',
          properties: {
            stream: { type: 'boolean', description: 'stream output as it happens' },
            ticket: {
              type: 'string',
              description: 'with `stream=true`: a single-use ticket from POST /api/containers/{id}/tickets instead of the bearer token (for browsers)',
            },
          },
        },
        params: ID_PARAMS,
        body: ref(ExecBodySchema),
        response: {
          200: {
            description: 'Exit code and output (each stream capped); with `?stream=true`, a stream of ExecStreamEvent',
            content: {
              'application/json': { schema: ref(ExecResultSchema) },
              'application/x-ndjson': { schema: ref(ExecStreamEventSchema) },
              'text/event-stream': { schema: ref(ExecStreamEventSchema) },
            },
          },
          ...errorResponses(...BODY_ERRORS, 'CONTAINER_NOT_FOUND', 'CONTAINER_NOT_RUNNING', 'CONTAINER_DELETED', ...API_ERRORS),
        },
      },
    },
    async (req, reply) => {
      const id = containerIdOf(req.params);
      const body = parseBody(ExecBodySchema, req);
      const timeoutMs = body.timeout ?? EXEC_DEFAULT_TIMEOUT_MS;
      const data = { id, owner: req.owner, command: body.command, timeoutMs, env: body.env, cwd: body.cwd };
      if (wantsStream(req)) return streamExec(streams, data, req, reply, timeoutMs + EXEC_REPLY_MARGIN_MS, keepaliveMs);
      return backend.request('containerExec', data, callOptions(req, timeoutMs + EXEC_REPLY_MARGIN_MS));
    },
  );
};
