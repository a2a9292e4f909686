import {
  BerthError,
  FileEntrySchema,
  FileListSchema,
  FilesMkdirBodySchema,
  FilesMoveBodySchema,
  FilesQuerySchema,
  FilesRemovedSchema,
  parseOrThrow,
  type FilesQuery,
} from '@berth/contracts';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { parseRange } from '../files/byte-range.js';
import { streamDownload } from '../files/download.js';
import { streamUpload } from '../files/upload.js';
import { API_ERRORS, BODY_ERRORS, ID_PARAMS, errorResponses, okResponse } from '../openapi.js';
import type { StreamBackend } from '../streams/stream-backend.js';
import { callOptions, containerIdOf, parseBody, type RouteDeps } from './common.js';

const TAR = 'application/x-tar';
const FILE_ERRORS = [
  'CONTAINER_NOT_FOUND',
  'FILE_NOT_FOUND',
  'NOT_A_DIRECTORY',
  'IS_A_DIRECTORY',
  'FILE_PERMISSION_DENIED',
  'INVALID_PATH',
  'FILE_OPERATION_FAILED',
  'AGENT_UPGRADE_REQUIRED',
  'AGENT_UNAVAILABLE',
  'VALIDATION_FAILED',
  ...API_ERRORS,
] as const;
const PATH_QUERY = {
  type: 'object',
  properties: { path: { type: 'string', description: 'Absolute, or relative to /workspace' } },
  required: ['path'],
};

const queryOf = (req: FastifyRequest): FilesQuery => parseOrThrow(FilesQuerySchema, req.query, 'query');
const isTar = (header: string | undefined) => (header ?? '').split(',').some((t) => t.trim().split(';')[0]?.trim().toLowerCase() === TAR);

/** A Content-Length, when the client sent one (chunked uploads have none). */
function lengthOf(req: FastifyRequest): number | undefined {
  const raw = req.headers['content-length'];
  return raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
}

/** Files in a workspace (docs/files.md): through pool-manager and the workspace's agent, as the workspace user. */
export const fileRoutes: FastifyPluginAsync<RouteDeps & { streams: StreamBackend }> = async (app, { backend, requestTimeoutMs, streams }) => {
  app.get(
    '/containers/:id/files',
    {
      schema: {
        operationId: 'readFile',
        tags: ['files'],
        summary: 'Read a file (Range supported), or a directory as tar (Accept: application/x-tar)',
        params: ID_PARAMS,
        querystring: PATH_QUERY,
        response: {
          200: { description: 'The bytes (application/octet-stream), or a tar stream' },
          206: { description: 'The range asked for' },
          ...errorResponses(...FILE_ERRORS, 'RANGE_NOT_SATISFIABLE'),
        },
      },
    },
    async (req, reply) => {
      const id = containerIdOf(req.params);
      const { path } = queryOf(req);
      const tar = isTar(req.headers.accept);
      const range = tar ? undefined : parseRange(req.headers.range);
      await streamDownload(streams, { id, owner: req.owner, path, tar, ...(range && { range }) }, req, reply);
    },
  );

  // Raw bodies of any type (a JSON file is bytes too), streamed: the route parses nothing itself.
  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', (_req, _payload, done) => done(null));
    raw.put(
      '/containers/:id/files',
      {
        schema: {
          operationId: 'writeFile',
          tags: ['files'],
          summary: 'Write a file (parent directories made), or unpack a tar into a directory (Content-Type: application/x-tar)',
          params: ID_PARAMS,
          querystring: PATH_QUERY,
          response: {
            201: okResponse(FileEntrySchema, 'Written (renamed into place once complete)'),
            ...errorResponses(...FILE_ERRORS, 'FILE_TOO_LARGE', 'NO_SPACE'),
          },
        },
      },
      async (req, reply) => {
        const id = containerIdOf(req.params);
        const { path, mode } = queryOf(req);
        const size = lengthOf(req);
        const entry = await streamUpload(
          streams,
          {
            id,
            owner: req.owner,
            path,
            tar: isTar(req.headers['content-type']),
            ...(mode !== undefined && { mode: parseInt(mode, 8) }),
            ...(size !== undefined && { size }),
          },
          req,
        );
        return reply.code(201).send(entry ?? { path });
      },
    );
  });

  app.get(
    '/containers/:id/files/list',
    {
      schema: {
        operationId: 'listFiles',
        tags: ['files'],
        summary: 'List a directory (depth levels, default 1)',
        params: ID_PARAMS,
        querystring: PATH_QUERY,
        response: { 200: okResponse(FileListSchema, 'Entries, sorted per directory; truncated past 5,000'), ...errorResponses(...FILE_ERRORS) },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      const { path, depth } = queryOf(req);
      const reply = await backend.request('filesOp', { id, owner: req.owner, op: 'list', path, depth: depth ?? 1 }, callOptions(req, requestTimeoutMs));
      return { entries: reply.entries ?? [], truncated: reply.truncated ?? false };
    },
  );

  app.delete(
    '/containers/:id/files',
    {
      schema: {
        operationId: 'removeFile',
        tags: ['files'],
        summary: 'Remove a file or a directory (recursive unless recursive=false)',
        params: ID_PARAMS,
        querystring: PATH_QUERY,
        response: { 200: okResponse(FilesRemovedSchema, 'Removed'), ...errorResponses(...FILE_ERRORS, 'DIRECTORY_NOT_EMPTY') },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      const { path, recursive } = queryOf(req);
      await backend.request('filesOp', { id, owner: req.owner, op: 'remove', path, recursive: recursive !== 'false' }, callOptions(req, requestTimeoutMs));
      return { removed: path };
    },
  );

  app.post(
    '/containers/:id/files/move',
    {
      schema: {
        operationId: 'moveFile',
        tags: ['files'],
        summary: 'Move (rename) a file or directory',
        params: ID_PARAMS,
        response: { 200: okResponse(FileEntrySchema, 'Where it is now'), ...errorResponses(...FILE_ERRORS, ...BODY_ERRORS) },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      const { from, to } = parseBody(FilesMoveBodySchema, req);
      const reply = await backend.request('filesOp', { id, owner: req.owner, op: 'move', from, to }, callOptions(req, requestTimeoutMs));
      if (!reply.entry) throw new BerthError('FILE_OPERATION_FAILED', "the workspace's agent did not say where the file is");
      return reply.entry;
    },
  );

  app.post(
    '/containers/:id/files/mkdir',
    {
      schema: {
        operationId: 'makeDirectory',
        tags: ['files'],
        summary: 'Make a directory and its parents',
        params: ID_PARAMS,
        response: { 200: okResponse(FileEntrySchema, 'The directory'), ...errorResponses(...FILE_ERRORS, 'FILE_EXISTS', ...BODY_ERRORS) },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      const { path } = parseBody(FilesMkdirBodySchema, req);
      const reply = await backend.request('filesOp', { id, owner: req.owner, op: 'mkdir', path }, callOptions(req, requestTimeoutMs));
      if (!reply.entry) throw new BerthError('FILE_OPERATION_FAILED', "the workspace's agent did not describe the directory");
      return reply.entry;
    },
  );
};
