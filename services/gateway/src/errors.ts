import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BerthError, httpStatusOf, type ErrorCode } from '@berth/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** What fastify's own errors mean in berth's codes. Their messages are replaced by ours. */
const FASTIFY_CODES: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 'request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['INVALID_JSON', 'body is empty but content-type is application/json'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['INVALID_JSON', 'body is not valid JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['VALIDATION_FAILED', 'content-length does not match the body'],
  FST_ERR_BAD_URL: ['VALIDATION_FAILED', 'malformed URL'],
  FST_ERR_MAX_PARAM_LENGTH: ['ROUTE_NOT_FOUND', 'route not found'],
};

/** Other client errors (4xx from fastify or a plugin), by status. */
const BY_STATUS: Record<number, [ErrorCode, string]> = {
  404: ['ROUTE_NOT_FOUND', 'route not found'],
  405: ['METHOD_NOT_ALLOWED', 'method not allowed'],
  413: ['PAYLOAD_TOO_LARGE', 'request body is too large'],
  415: ['UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json'],
};

/** A berth error for anything thrown while serving a request, or undefined if it is a bug. */
function toBerthError(err: unknown): BerthError | undefined {
  if (err instanceof BerthError) return err;
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
  const known = typeof code === 'string' ? FASTIFY_CODES[code] : undefined;
  if (known) return new BerthError(known[0], known[1]);
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const [c, message] = BY_STATUS[statusCode] ?? ['VALIDATION_FAILED', 'bad request'];
    return new BerthError(c, message);
  }
  return undefined;
}

function sendError(reply: FastifyReply, err: BerthError): FastifyReply {
  reply.code(httpStatusOf(err.code));
  if (err.retryable && err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
  if (err.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
  const body = err.toBody();
  body.error.requestId = reply.request.id;
  return reply.type('application/json; charset=utf-8').send(body);
}

/**
 * Every error leaves as `{ error: { code, message, retryable } }`. Anything that is not a berth or
 * client error is a bug: logged in full, answered with a generic INTERNAL and no detail.
 */
export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const berth = toBerthError(err);
  if (berth === undefined) {
    req.log.error({ err }, 'unhandled error');
    return sendError(reply, new BerthError('INTERNAL', 'internal error'));
  }
  if (httpStatusOf(berth.code) >= 500) req.log.warn({ code: berth.code, reason: berth.message }, 'request failed');
  return sendError(reply, berth);
}

/** fastify's `frameworkErrors`: bad URLs and over-long params, before any route runs. */
export function frameworkErrors(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  errorHandler(err, req, reply);
}

/** Route patterns with their methods, to tell "no such route" (404) from "wrong method" (405). */
export class RouteTable {
  private readonly routes = new Map<string, { re: RegExp; methods: Set<string> }>();

  add(url: string, method: string | string[]): void {
    let entry = this.routes.get(url);
    if (!entry) {
      const pattern = url
        .split('/')
        .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      entry = { re: new RegExp(`^${pattern}$`), methods: new Set() };
      this.routes.set(url, entry);
    }
    for (const m of [method].flat()) entry.methods.add(m.toUpperCase());
  }

  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const { re, methods: ms } of this.routes.values()) if (re.test(path)) ms.forEach((m) => methods.add(m));
    return [...methods].sort();
  }
}

export function notFoundHandler(routes: RouteTable) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const path = req.url.split('?')[0] ?? '';
    const allow = routes.allowed(path);
    if (allow.length > 0) {
      reply.header('allow', allow.join(', '));
      return sendError(reply, new BerthError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here`));
    }
    return sendError(reply, new BerthError('ROUTE_NOT_FOUND', 'route not found'));
  };
}

/** Malformed HTTP (before fastify sees a request): answered in berth's format, then closed. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket, _req?: IncomingMessage): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  // Bytes after a request whose answer is still being made (say, a HEAD's unannounced body behind a
  // 401 the auth hook is about to send): that answer goes out alone, then the connection closes. A
  // 400 written now would come before it, or after a `Connection: close`. Node keeps the response
  // in progress on `_httpMessage` (its own default clientError handling reads the same field).
  const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (pending) {
    // Said in the answer, so a keep-alive client does not send its next request on this socket.
    if (!pending.headersSent) pending.setHeader('connection', 'close');
    if (pending.writableFinished) socket.end();
    else pending.once('finish', () => socket.end()).once('close', () => socket.destroy());
    return;
  }
  const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const error = timedOut ? new BerthError('TIMEOUT', 'request was not received in time') : new BerthError('VALIDATION_FAILED', 'malformed HTTP request');
  const body = JSON.stringify(error.toBody());
  const status = timedOut ? '408 Request Timeout' : '400 Bad Request';
  // The answer to a HEAD has no body (its client reads none, so bytes after the head are garbage to it).
  const head = isHeadRequest((err as { rawPacket?: unknown }).rawPacket);
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`,
  );
}

/** Whether the bytes a parse error kept start a HEAD request. */
function isHeadRequest(rawPacket: unknown): boolean {
  return Buffer.isBuffer(rawPacket) && rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
}
