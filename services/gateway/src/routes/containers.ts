import { createHash } from 'node:crypto';
import {
  BerthError,
  ContainerListSchema,
  ContainerViewSchema,
  CreateContainerBodySchema,
  CreateContainerReplySchema,
  DeleteContainerReplySchema,
  UsageSchema,
  type CreateContainerBody,
  type CreateContainerReply,
  type CreateContainerRequest,
} from '@berth/contracts';
import { newRequestId } from '@berth/service-kit';
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Backend, BackendRequestOptions } from '../backend.js';
import { API_ERRORS, BODY_ERRORS, ID_PARAMS, errorResponses, okResponse, ref } from '../openapi.js';
import { checkOwnerLimits } from '../keys/owner-limits.js';
import { callOptions, containerIdOf, parseBody, type RouteDeps } from './common.js';
import { usageWithLlm } from './llm.js';
import { PAGE_QUERYSTRING, pageOf } from './paging.js';

const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_-]{8,100}$/;
const IdempotencyKeySchema = z.string().regex(IDEMPOTENCY_KEY_PATTERN, '8 to 100 characters of A-Z a-z 0-9 _ -');

/**
 * The requestId pool-manager deduplicates creates by. A caller's Idempotency-Key is scoped to its
 * owner (hashed), so two owners choosing the same key never share a container; it travels with the
 * hash of the parsed body, so the same key with another body is refused (IDEMPOTENCY_KEY_REUSED).
 */
function idempotencyOf(req: FastifyRequest, body: CreateContainerBody): { requestId: string; bodyHash?: string } {
  const key = req.headers['idempotency-key'];
  if (key === undefined) return { requestId: newRequestId() };
  const valid = IdempotencyKeySchema.safeParse(key);
  if (!valid.success) {
    throw new BerthError('VALIDATION_FAILED', 'invalid Idempotency-Key header: 8 to 100 characters of A-Z a-z 0-9 _ -', {
      details: [{ path: 'headers.idempotency-key', message: '8 to 100 characters of A-Z a-z 0-9 _ -' }],
    });
  }
  return {
    requestId: `idem_${createHash('sha256').update(`${req.owner}\n${valid.data}`).digest('hex').slice(0, 40)}`,
    // The parsed body, so spelling (whitespace, key order) does not make two requests differ.
    bodyHash: createHash('sha256')
      .update(JSON.stringify(canonical(body)))
      .digest('hex'),
  };
}

/** A JSON value with every object's keys sorted. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** Create, retried once with the same requestId if the bus times out (pool-manager dedups by it). */
async function createOnceRetried(
  backend: Backend,
  request: CreateContainerRequest,
  opts: BackendRequestOptions,
  log: FastifyBaseLogger,
): Promise<CreateContainerReply> {
  try {
    return await backend.request('containerCreate', request, opts);
  } catch (err) {
    if (!(err instanceof BerthError) || err.code !== 'TIMEOUT') throw err;
    log.warn({ requestId: request.requestId }, 'container create timed out; retrying once with the same requestId');
    return backend.request('containerCreate', request, opts);
  }
}

export const containerRoutes: FastifyPluginAsync<RouteDeps> = async (app, { backend, requestTimeoutMs }) => {
  app.get(
    '/containers',
    {
      schema: {
        operationId: 'listContainers',
        tags: ['containers'],
        summary: 'List your containers',
        description: 'Ordered by id. `?limit=` pages the list; each page but the last has a `nextCursor` to send back as `?cursor=`.',
        querystring: PAGE_QUERYSTRING,
        response: { 200: okResponse(ContainerListSchema, 'Your claimed containers'), ...errorResponses('VALIDATION_FAILED', ...API_ERRORS) },
      },
    },
    async (req) => {
      const all = await backend.request('containerList', { owner: req.owner }, callOptions(req, requestTimeoutMs));
      const { items, nextCursor } = pageOf(all.containers, (c) => c.id, req.query);
      return { containers: items, count: all.count, ...(nextCursor && { nextCursor }) };
    },
  );

  app.get(
    '/containers/:id',
    {
      schema: {
        operationId: 'getContainer',
        tags: ['containers'],
        summary: 'Get one container',
        params: ID_PARAMS,
        response: { 200: okResponse(ContainerViewSchema, 'The container'), ...errorResponses('CONTAINER_NOT_FOUND', ...API_ERRORS) },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      return backend.request('containerGet', { id, owner: req.owner }, callOptions(req, requestTimeoutMs));
    },
  );

  app.get(
    '/containers/:id/usage',
    {
      schema: {
        operationId: 'getContainerUsage',
        tags: ['containers'],
        summary: 'CPU, memory, pids, network and LLM use of a container',
        description:
          'One sample from the container engine (takes about a second: CPU % is measured over that interval, 100 = one core). ' +
          '`memoryBytes` leaves out reclaimable page cache, as `docker stats` does. ' +
          '`llm`: requests, tokens and spend through egress since the claim, and the limits in force; absent when egress did not answer.',
        params: ID_PARAMS,
        response: { 200: okResponse(UsageSchema, 'The sample'), ...errorResponses('CONTAINER_NOT_FOUND', ...API_ERRORS) },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      return usageWithLlm(backend, id, req.owner, callOptions(req, requestTimeoutMs));
    },
  );

  app.post(
    '/containers',
    {
      schema: {
        operationId: 'createContainer',
        tags: ['containers'],
        summary: 'Claim a warm container, or create one',
        description:
          'Send `Idempotency-Key` to make a retried request return the same container (for 10 minutes); the same key with a different body is 422 `IDEMPOTENCY_KEY_REUSED`. An empty body uses the default pool.',
        headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source } } },
        body: ref(CreateContainerBodySchema),
        response: {
          201: okResponse(CreateContainerReplySchema, 'The container, ready to use'),
          ...errorResponses(
            ...BODY_ERRORS,
            'IMAGE_NOT_ALLOWED',
            'IMAGE_NOT_FOUND',
            'VOLUME_NOT_ALLOWED',
            'POOL_NOT_FOUND',
            'NAME_CONFLICT',
            'VOLUME_LIMIT_REACHED',
            'LIMIT_EXCEEDED',
            'LIMIT_UNSUPPORTED',
            'CONTAINER_EXITED',
            'IDEMPOTENCY_KEY_REUSED',
            'CAPACITY_EXHAUSTED',
            'PORTS_EXHAUSTED',
            ...API_ERRORS,
          ),
        },
      },
    },
    async (req, reply) => {
      const body = parseBody(CreateContainerBodySchema, req, {});
      checkOwnerLimits(req.apiKey, body);
      const request: CreateContainerRequest = { ...body, ...idempotencyOf(req, body), owner: req.owner };
      const created = await createOnceRetried(backend, request, callOptions(req, requestTimeoutMs), req.log);
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/containers/:id',
    {
      schema: {
        operationId: 'deleteContainer',
        tags: ['containers'],
        summary: 'Remove a container',
        params: ID_PARAMS,
        response: { 200: okResponse(DeleteContainerReplySchema, 'Removed'), ...errorResponses('CONTAINER_NOT_FOUND', ...API_ERRORS) },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      return backend.request('containerDelete', { id, owner: req.owner }, callOptions(req, requestTimeoutMs));
    },
  );
};
