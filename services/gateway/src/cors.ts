import { BerthError } from '@berth/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';

const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOW_HEADERS = 'authorization, content-type, idempotency-key, last-event-id, traceparent, accept, x-request-id';
const EXPOSE_HEADERS = 'retry-after, www-authenticate, x-request-id, ratelimit-limit, ratelimit-remaining, ratelimit-reset, ratelimit-policy';
/** How long a browser may reuse a preflight answer, s. */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * CORS for the operator's allow-list (CORS_ORIGINS): only a listed origin gets
 * `Access-Control-Allow-Origin` (its own, never `*`); nothing else gets any CORS header. No
 * credentials mode: the API key travels in `Authorization`, never in a cookie or a URL. A
 * preflight is answered here, before authentication (browsers send it without the token); one
 * from an unlisted origin is 403 ORIGIN_NOT_ALLOWED. WebSockets are outside CORS, so a browser's
 * upgrade is refused here unless its origin is listed or is the gateway's own (the dashboard).
 * Headers go on the raw response, so hijacked streams (logs, streaming exec) carry them too.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's credential is in its URL, never ambient (a preview share link): a WebSocket from any origin may open it. */
    anyOrigin?: boolean;
  }
}

export function corsHook(origins: readonly string[]): (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  const allowed = new Set(origins);
  return async (req, reply) => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string') return undefined;
    const listed = allowed.has(origin);
    if (allowed.size > 0) reply.raw.setHeader('vary', 'Origin');
    if (listed) {
      reply.raw.setHeader('access-control-allow-origin', origin);
      reply.raw.setHeader('access-control-expose-headers', EXPOSE_HEADERS);
    }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      if (!listed) throw notAllowed();
      reply.raw.setHeader('access-control-allow-methods', ALLOW_METHODS);
      reply.raw.setHeader('access-control-allow-headers', ALLOW_HEADERS);
      reply.raw.setHeader('access-control-max-age', String(PREFLIGHT_MAX_AGE_S));
      return reply.code(204).send();
    }
    if (!listed && isWebSocketUpgrade(req) && !isOwnOrigin(origin, req.host) && req.routeOptions.config.anyOrigin !== true) throw notAllowed();
    return undefined;
  };
}

const notAllowed = () => new BerthError('ORIGIN_NOT_ALLOWED', "this origin is not allowed: the gateway's operator lists browser origins in CORS_ORIGINS");

const isWebSocketUpgrade = (req: FastifyRequest) => String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';

/** The page came from this gateway (same host and port; the scheme may differ behind a TLS proxy). */
function isOwnOrigin(origin: string, host: string): boolean {
  try {
    const page = new URL(origin);
    return new URL(`${page.protocol}//${host}`).host === page.host;
  } catch {
    return false;
  }
}

/** CORS_ORIGINS: exact origins (`https://app.example.com`, `http://localhost:5173`), comma-separated. */
export function parseCorsOrigins(raw: string): { origins: string[]; bad: string[] } {
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => !isOrigin(e));
  return { origins: entries, bad };
}

function isOrigin(e: string): boolean {
  try {
    const url = new URL(e);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === e;
  } catch {
    return false;
  }
}
