import { createHash, randomBytes } from 'node:crypto';
import { BerthError, TICKET_TTL_MS, type TicketRedeemReply, type TicketReply } from '@berth/contracts';
import type { Redis } from '@berth/service-kit';
import type { WorkspaceAccess } from './workspaces/access.js';

/** Not host-scoped: any pool-manager can redeem a ticket another minted, for any gateway. */
const keyOf = (ticket: string) => `berth:ticket:${createHash('sha256').update(ticket).digest('hex')}`;

/**
 * Single-use tickets that stand in for the API token where a browser cannot send a header
 * (WebSocket, EventSource). Only the hash is stored; redeeming is one GETDEL, so two gateways
 * racing with the same ticket cannot both win.
 */
export class Tickets {
  constructor(
    private readonly redis: Redis,
    private readonly access: WorkspaceAccess,
    private readonly ttlMs = TICKET_TTL_MS,
  ) {}

  async create(id: string, owner: string): Promise<TicketReply> {
    await this.access.get(id, owner);
    const ticket = randomBytes(32).toString('base64url');
    await this.redis.set(keyOf(ticket), JSON.stringify({ id, owner }), 'PX', this.ttlMs);
    return { ticket, expiresAt: new Date(Date.now() + this.ttlMs).toISOString() };
  }

  async redeem(id: string, ticket: string): Promise<TicketRedeemReply> {
    const raw = await this.redis.getdel(keyOf(ticket));
    const held = raw ? (JSON.parse(raw) as { id: string; owner: string }) : undefined;
    if (!held || held.id !== id) throw new BerthError('UNAUTHORIZED', 'ticket is unknown, used or expired');
    return { owner: held.owner };
  }
}
