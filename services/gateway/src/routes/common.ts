import { BerthError, ContainerIdParamsSchema, parseOrThrow } from '@berth/contracts';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Backend, BackendRequestOptions } from '../backend.js';
import { traceOf } from '../trace.js';

export interface RouteDeps {
  backend: Backend;
  /** NATS request timeout for calls that have no timeout of their own. */
  requestTimeoutMs: number;
}

/**
 * The container id from the path. An id that cannot exist is answered exactly like one that does
 * not exist (404), so probing learns nothing from the difference.
 */
export function containerIdOf(params: unknown): string {
  const parsed = ContainerIdParamsSchema.safeParse(params);
  if (!parsed.success) throw new BerthError('CONTAINER_NOT_FOUND', 'container not found');
  return parsed.data.id;
}

/**
 * The JSON body validated with a contracts schema; errors carry our codes (UNKNOWN_FIELD,
 * FORBIDDEN_OPTION, INVALID_NAME, VALIDATION_FAILED). `whenAbsent` stands in for a request that
 * sent no body at all (fastify leaves null there; a JSON `null` body comes with a content-type).
 */
export function parseBody<S extends z.ZodType>(schema: S, req: FastifyRequest, whenAbsent?: unknown): z.infer<S> {
  const absent = req.body === undefined || (req.body === null && req.headers['content-type'] === undefined);
  return parseOrThrow(schema, absent ? whenAbsent : req.body, 'body');
}

/** Options for a backend call made on behalf of `req`: its trace (the caller's, or a new one) passes on. */
export function callOptions(req: FastifyRequest, timeoutMs: number): BackendRequestOptions {
  return { timeoutMs, trace: traceOf(req.raw) };
}
