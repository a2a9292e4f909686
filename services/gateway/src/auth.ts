import { BerthError } from '@berth/contracts';
import { secretsEqual } from '@berth/service-kit';
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the authenticated caller acts as; pool-manager scopes every container to it. */
    owner: string;
  }
}

/**
 * The owner every API caller acts as. This is the only place an owner is chosen: when API keys
 * carry their own owner, `ownerOf` looks it up instead.
 */
export const DEFAULT_OWNER = 'default';

function ownerOf(_token: string): string {
  return DEFAULT_OWNER;
}

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * An onRequest hook: `Authorization: Bearer <token>` compared in constant time. Runs before the
 * body is read, so an unauthenticated caller never gets the body parsed. Never logs the header.
 */
export function bearerAuth(apiToken: string): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const header = req.headers.authorization;
    const given = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (given === undefined || !secretsEqual(given, apiToken)) {
      throw new BerthError('UNAUTHORIZED', 'missing or invalid bearer token');
    }
    req.owner = ownerOf(given);
  };
}
