import { BerthError } from '@berth/contracts';
import type { FastifyRequest } from 'fastify';
import type { ApiKey, KeyRing } from './keys/api-key.js';
import { requireScope } from './keys/scopes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the authenticated caller acts as; pool-manager scopes every container to it. */
    owner: string;
    /** The API key the request authenticated with; undefined when a ticket stood in for one. */
    apiKey: ApiKey | undefined;
  }
}

const BEARER = /^Bearer +(\S+) *$/i;
/** Query names under which clients (Artie's among them: `?token=`) put an API key in a URL. */
const KEY_QUERY_NAMES = ['token', 'access_token', 'api_key', 'apiKey', 'key'];

/**
 * An API key in a URL is never accepted, valid or not: URLs end up in logs, proxies and browser
 * history (Artie's worst bug). The 401 says what to do instead.
 */
export function refuseKeyInUrl(req: FastifyRequest): void {
  const query = req.query as Record<string, unknown> | undefined;
  if (!query || !KEY_QUERY_NAMES.some((name) => query[name] !== undefined)) return;
  throw new BerthError(
    'UNAUTHORIZED',
    'an API key is never accepted in a URL: send it as "Authorization: Bearer <key>", ' +
      'or, from a browser, get a single-use ticket from POST /api/containers/{id}/tickets and pass it as ?ticket=',
  );
}

/**
 * An onRequest hook: `Authorization: Bearer <key>`, looked up by its sha256 among the ring's keys
 * in constant time. Runs before the body is read, so an unauthenticated caller never gets the body
 * parsed. Never logs the header. The owner and key ride on the request; the scope is checked by
 * `checkScope` after the rate limit.
 */
export function bearerAuth(keys: KeyRing): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const header = req.headers.authorization;
    const given = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    const key = given === undefined ? undefined : keys.authenticate(given);
    if (key === undefined) {
      refuseKeyInUrl(req);
      throw new BerthError('UNAUTHORIZED', 'missing or invalid bearer token');
    }
    req.owner = key.owner;
    req.apiKey = key;
  };
}

/** 403 FORBIDDEN when the request's key lacks the route's scope. A ticket is its own permission. */
export function checkScope(req: FastifyRequest): void {
  if (req.apiKey) requireScope(req.apiKey.scopes, req.method, req.routeOptions.url);
}
