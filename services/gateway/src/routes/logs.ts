import { BerthError, LogEventSchema, LogsQuerySchema, parseOrThrow, type LogEvent, type LogsQuery } from '@berth/contracts';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { logActivityLease } from '../logs/activity-lease.js';
import type { LogEntry, LogReader, LogStart } from '../logs/log-reader.js';
import { StreamWriter, sseEvent } from '../logs/stream-writer.js';
import { API_ERRORS, ID_PARAMS, errorResponses, ref } from '../openapi.js';
import { callOptions, containerIdOf, type RouteDeps } from './common.js';

export interface LogRouteDeps extends RouteDeps {
  logs: LogReader;
  /** Comment lines sent this often keep idle connections (and proxies) open, ms. */
  heartbeatMs?: number;
  /** A followed stream tells pool-manager its container is in use this often, ms. */
  activityEveryMs?: number;
}

/** `Last-Event-ID` (a reconnecting EventSource sends it), then `?after=`, win over ?tail and ?since: resume exactly. */
function startOf(lastEventId: string | string[] | undefined, query: LogsQuery): LogStart {
  if (typeof lastEventId === 'string' && lastEventId !== '') {
    if (!/^\d{1,15}$/.test(lastEventId)) throw new BerthError('VALIDATION_FAILED', 'Last-Event-ID must be an event id this API sent');
    return { kind: 'after', seq: Number(lastEventId) };
  }
  if (query.after !== undefined) return { kind: 'after', seq: query.after };
  if (query.tail !== undefined) return { kind: 'tail', lines: query.tail };
  if (query.since !== undefined) return { kind: 'since', at: new Date(query.since) };
  return { kind: 'all' };
}

const toEvent = (e: LogEntry): LogEvent => ({
  stream: e.stream,
  time: e.line.ts,
  timestamp: Date.parse(e.line.ts),
  line: e.line.line,
  ...(e.line.cont && { continued: true as const }),
  ...(e.line.phase && { phase: e.line.phase }),
});

export const logRoutes: FastifyPluginAsync<LogRouteDeps> = async (app, { backend, logs, requestTimeoutMs, heartbeatMs = 15_000, activityEveryMs = 60_000 }) => {
  app.get(
    '/containers/:id/logs',
    {
      config: { ticket: true },
      schema: {
        operationId: 'getContainerLogs',
        tags: ['containers'],
        summary: 'Container output: Server-Sent Events, or plain text',
        description:
          'Follows by default, as `text/event-stream`: each event is unnamed (a plain `EventSource` sees it with `onmessage`), has an `id` that grows line by line (LOGS message sequence × 10000 + index of the line in that message) and a LogEvent as `data` (`line`, `timestamp` in ms since the epoch, `stream`, `time`); ' +
          'reconnecting with `Last-Event-ID` (or `?after=<id>`, for a browser opening a new EventSource with a new ticket) resumes right after that line. `?tail=N` starts N lines from the end, `?since=` at an ISO time. ' +
          'Authenticate with `Authorization: Bearer` or, from a browser, `?ticket=` (single-use, from `POST /api/containers/{id}/tickets`). ' +
          '`?follow=false` answers `text/plain` with the lines stored so far (pieces flagged `continued` are not followed by a newline).',
        params: ID_PARAMS,
        querystring: {
          type: 'object',
          properties: {
            tail: { type: 'integer', minimum: 0 },
            since: { type: 'string', format: 'date-time' },
            follow: { type: 'boolean', default: true },
            after: { type: 'string', pattern: '^[0-9]{1,15}$' },
            ticket: { type: 'string' },
          },
        },
        response: {
          200: {
            description: 'text/event-stream of unnamed events (data: LogEvent), or text/plain',
            content: { 'text/event-stream': { schema: ref(LogEventSchema) }, 'text/plain': { schema: { type: 'string' } } },
          },
          ...errorResponses('VALIDATION_FAILED', 'UNKNOWN_FIELD', 'CONTAINER_NOT_FOUND', ...API_ERRORS),
        },
      },
    },
    async (req, reply) => {
      const id = containerIdOf(req.params);
      const query = parseOrThrow(LogsQuerySchema, req.query, 'query');
      const start = startOf(req.headers['last-event-id'], query);
      // Visible to this caller, or 404 exactly as for a container that does not exist.
      await backend.request('containerGet', { id, owner: req.owner }, callOptions(req, requestTimeoutMs));
      const abort = new AbortController();
      const entries = await logs.read(id, start, { follow: query.follow, signal: abort.signal });
      reply.raw.on('close', () => abort.abort());
      const lease = query.follow ? logActivityLease(backend, id, req.owner, activityEveryMs) : undefined;
      try {
        await stream(reply, entries, query.follow, abort, heartbeatMs);
      } finally {
        lease?.stop();
      }
      return reply;
    },
  );
};

async function stream(reply: FastifyReply, entries: AsyncIterable<LogEntry>, follow: boolean, abort: AbortController, heartbeatMs: number): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(
    200,
    follow
      ? { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }
      : { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' },
  );
  const out = new StreamWriter(res, abort.signal);
  const heartbeat = follow
    ? setInterval(() => {
        if (res.writableLength === 0) res.write(': keep-alive\n\n');
      }, heartbeatMs)
    : undefined;
  if (follow) res.write(': connected\n\n');
  try {
    for await (const e of entries) {
      if (abort.signal.aborted) break;
      await out.write(follow ? sseEvent(e.seq, JSON.stringify(toEvent(e))) : e.line.cont ? e.line.line : `${e.line.line}\n`);
    }
  } catch (err) {
    reply.log.warn({ err }, 'log stream failed');
  } finally {
    clearInterval(heartbeat);
    out.end();
    abort.abort();
  }
}
