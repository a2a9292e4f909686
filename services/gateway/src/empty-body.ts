import type { FastifyRequest } from 'fastify';

/** Routes of these methods take no body. */
const BODYLESS = new Set(['DELETE', 'GET', 'HEAD']);

/**
 * Artie's clients send `DELETE` with `content-type: application/json` and no body (no
 * content-length, or 0); fastify would refuse that as an empty JSON body. A body-less method with
 * an empty body has nothing to parse, so its content-type is dropped (an onRequest hook). A body
 * that is not empty still goes to the parser and its checks.
 */
export function ignoreTypeOfEmptyBody(req: FastifyRequest): void {
  const length = req.headers['content-length'];
  if (BODYLESS.has(req.method) && (length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined) {
    delete req.headers['content-type'];
  }
}
