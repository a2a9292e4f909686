import type { IncomingMessage } from 'node:http';
import { newRequestId } from '@berth/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';

const REQUEST_ID_HEADER = 'x-request-id';
/** What a caller's own request id may look like; anything else (too long, odd bytes) is replaced by a new one. */
const CALLER_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * fastify's `genReqId`: the caller's `X-Request-Id` when it is a plain token, else a new `req_…`.
 * fastify puts it on every log line of the request as `reqId`.
 */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && CALLER_REQUEST_ID.test(given) ? given : newRequestId();
}

/**
 * First hook of every request: the answer carries the request id, whatever route or error it ends
 * in. On the raw response, so hijacked streams (logs, streaming exec, WebSocket refusals) carry it too.
 */
export async function echoRequestId(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.raw.setHeader(REQUEST_ID_HEADER, req.id);
}
