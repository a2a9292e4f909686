import { BerthError, FilesWatchQuerySchema, FileWatchEventSchema, parseOrThrow, WATCH_EVENT_ID, type StreamOut } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { API_ERRORS, ID_PARAMS, errorResponses, ref } from '../openapi.js';
import type { StreamBackend } from '../streams/stream-backend.js';
import { traceOf } from '../trace.js';
import { containerIdOf } from './common.js';

/** A comment line this often keeps idle connections (and proxies) open. */
const HEARTBEAT_MS = 15_000;

/** `Last-Event-ID` → the watch and the last event the caller has; anything else is not an id we sent. */
function resumeOf(header: string | string[] | undefined): { watch: string; seq: number } | undefined {
  if (header === undefined || header === '') return undefined;
  const m = typeof header === 'string' ? WATCH_EVENT_ID.exec(header) : null;
  if (!m) throw new BerthError('VALIDATION_FAILED', 'Last-Event-ID must be an event id of a files watch');
  return { watch: m[1]!, seq: Number(m[2]) };
}

const sse = (msg: Extract<StreamOut, { type: 'watch' }>) => `id: ${msg.id}\nevent: ${msg.event.kind}\ndata: ${JSON.stringify(msg.event)}\n\n`;

/** `GET /api/containers/:id/files/watch` (docs/files.md "Watch"): a directory's changes as Server-Sent Events. */
export const fileWatchRoutes: FastifyPluginAsync<{ streams: StreamBackend }> = async (app, { streams }) => {
  app.get(
    '/containers/:id/files/watch',
    {
      schema: {
        operationId: 'watchFiles',
        tags: ['files'],
        summary: "A directory's changes as Server-Sent Events (created, modified, deleted), resumable with Last-Event-ID",
        description:
          'Events are named by their `kind` (`created`, `modified`, `deleted`; `overflow` and `reset`: list the directory again; `end`: the watch is over, the response ends) with a FileWatchEvent as `data` and an `id`. ' +
          'Reconnecting with `Last-Event-ID` within FILES_WATCH_RESUME_MS (30 s) replays what was missed; otherwise the new stream starts with a `reset`. ' +
          'Only directories of /workspace (`recursive=true`: the whole tree, never into a symlink).',
        params: ID_PARAMS,
        querystring: {
          type: 'object',
          properties: {
            path: { type: 'string', description: 'A directory: absolute, or relative to /workspace' },
            recursive: { type: 'string', enum: ['true', 'false'], description: 'true: the whole tree below (never into a symlink)' },
          },
          required: ['path'],
        },
        response: {
          200: { description: 'text/event-stream of FileWatchEvent', content: { 'text/event-stream': { schema: ref(FileWatchEventSchema) } } },
          ...errorResponses(
            'VALIDATION_FAILED',
            'CONTAINER_NOT_FOUND',
            'CONTAINER_PAUSED',
            'FILE_NOT_FOUND',
            'NOT_A_DIRECTORY',
            'FILE_PERMISSION_DENIED',
            'PATH_OUTSIDE_WORKSPACE',
            'WATCH_LIMIT_REACHED',
            'WATCH_TOO_LARGE',
            'AGENT_UPGRADE_REQUIRED',
            'AGENT_UNAVAILABLE',
            ...API_ERRORS,
          ),
        },
      },
    },
    async (req, reply) => {
      const id = containerIdOf(req.params);
      const query = parseOrThrow(FilesWatchQuerySchema, req.query, 'query');
      const resume = resumeOf(req.headers['last-event-id']);
      const handle = await streams.open(
        'filesWatch',
        { id, owner: req.owner, path: query.path, recursive: query.recursive === 'true', ...(resume && { resume }) },
        { trace: traceOf(req.raw) },
      );
      reply.hijack();
      const res = reply.raw;
      if (res.destroyed || req.raw.socket?.destroyed === true) {
        handle.close();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
      res.write(': connected\n\n');
      const heartbeat = setInterval(() => {
        if (res.writableLength === 0) res.write(': keep-alive\n\n');
      }, HEARTBEAT_MS);
      const end = () => {
        clearInterval(heartbeat);
        handle.close();
        if (!res.writableEnded) res.end();
      };
      // The caller went away: pool-manager keeps the watch for a resume, then releases it in the agent.
      res.on('close', end);
      handle.listen((msg) => {
        if (res.destroyed) return;
        if (msg.type === 'watch') {
          if (res.write(sse(msg))) handle.ack(msg.seq);
          else res.once('drain', () => handle.ack(msg.seq));
        } else if (msg.type === 'error') {
          res.write(`event: error\ndata: ${JSON.stringify({ error: msg.error })}\n\n`);
          end();
        } else {
          end();
        }
      });
    },
  );
};
