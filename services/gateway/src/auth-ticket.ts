import { BerthError, TicketSchema } from '@berth/contracts';
import type { FastifyRequest } from 'fastify';
import type { Backend } from './backend.js';
import { traceOf } from './trace.js';
import { bearerAuth, refuseKeyInUrl } from './auth.js';
import type { KeyRing } from './keys/api-key.js';
import { containerIdOf } from './routes/common.js';

/** WebSocket subprotocol that carries a ticket: `berth.ticket.<ticket>`, offered beside TERMINAL_PROTOCOL. */
const TICKET_PROTOCOL_PREFIX = 'berth.ticket.';
export const TERMINAL_PROTOCOL = 'berth.terminal.v1';

function ticketOf(req: FastifyRequest): string | undefined {
  const query = (req.query as Record<string, unknown> | undefined)?.ticket;
  if (typeof query === 'string') return query;
  const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  return protocols.find((p) => p.startsWith(TICKET_PROTOCOL_PREFIX))?.slice(TICKET_PROTOCOL_PREFIX.length);
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route may be opened with a single-use ticket instead of the bearer token: always (`true`),
     * or when the function says so for this request (streaming exec, not the plain one).
     */
    ticket?: boolean | ((req: FastifyRequest) => boolean);
  }
}

function acceptsTicket(req: FastifyRequest): boolean {
  const ticket = req.routeOptions.config.ticket;
  return ticket === true || (typeof ticket === 'function' && ticket(req));
}

/**
 * The /api auth hook. Routes a browser opens without headers (WebSocket, EventSource, a streaming
 * exec) say so in their config: there the bearer token when one is sent, else a single-use ticket
 * for this container (`?ticket=` or a subprotocol), redeemed at pool-manager. A used, expired or
 * foreign ticket is 401 like a wrong token. A ticket is made only for a key with the exec scope
 * and opens only its container, so it needs no scope of its own. Every other route takes only
 * the bearer token.
 */
export function bearerOrTicketAuth(keys: KeyRing, backend: Backend): (req: FastifyRequest) => Promise<void> {
  const bearer = bearerAuth(keys);
  return async (req) => {
    if (req.headers.authorization !== undefined || !acceptsTicket(req)) return bearer(req);
    const ticket = TicketSchema.safeParse(ticketOf(req));
    if (!ticket.success) {
      refuseKeyInUrl(req);
      throw new BerthError('UNAUTHORIZED', 'missing or invalid bearer token or ticket');
    }
    let id: string;
    try {
      id = containerIdOf(req.params);
    } catch {
      throw new BerthError('UNAUTHORIZED', 'ticket is unknown, used or expired');
    }
    const { owner } = await backend.request('ticketRedeem', { id, ticket: ticket.data }, { trace: traceOf(req.raw) });
    req.owner = owner;
    req.apiKey = undefined;
  };
}
