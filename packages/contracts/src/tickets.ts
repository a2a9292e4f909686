import { z } from 'zod';
import { WorkspaceIdSchema } from './names.js';

/** How long a ticket can be redeemed, once. */
export const TICKET_TTL_MS = 30_000;

/** 32 random bytes, base64url. A ticket is not the API secret: it opens one container's stream once. */
export const TicketSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a berth ticket');

/** POST /api/containers/:id/tickets */
export const TicketReplySchema = z.object({ ticket: TicketSchema, expiresAt: z.iso.datetime() }).meta({ id: 'Ticket' });
export type TicketReply = z.infer<typeof TicketReplySchema>;

export const TicketCreateRequestSchema = z.object({ id: WorkspaceIdSchema, owner: z.string().min(1).max(100) });
export type TicketCreateRequest = z.infer<typeof TicketCreateRequestSchema>;

/** Redeeming is atomic (GETDEL): a second redeem of the same ticket fails with UNAUTHORIZED. */
export const TicketRedeemRequestSchema = z.object({ id: WorkspaceIdSchema, ticket: TicketSchema });
export const TicketRedeemReplySchema = z.object({ owner: z.string() });
export type TicketRedeemReply = z.infer<typeof TicketRedeemReplySchema>;

/** Terminal WebSocket text frames (binary frames carry terminal bytes both ways). */
export const TerminalClientFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('resize'), cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(1000) }),
]);
export type TerminalClientFrame = z.infer<typeof TerminalClientFrameSchema>;

export const TerminalServerFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('exit'), code: z.number().int().nullable() }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type TerminalServerFrame = z.infer<typeof TerminalServerFrameSchema>;

/** WebSocket messages larger than this close the socket with 1009 (message too big). */
export const WS_MAX_MESSAGE_BYTES = 64 * 1024;
