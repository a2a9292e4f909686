import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';

/** How long a client has to finish the closing handshake after its protocol error. */
const CLOSE_GRACE_MS = 1_000;

/**
 * Errors on an open WebSocket. What the client did wrong (a frame over maxPayload, bad UTF-8, a
 * broken frame: ws's `WS_ERR_*`) or a connection it dropped is one warning line without a stack;
 * ws has already closed the socket with the right code (1009, 1007, 1002). Anything else is ours:
 * logged as an error, and the socket is dropped.
 */
export function webSocketErrorHandler(error: Error, socket: WebSocket, req: FastifyRequest): void {
  const code = (error as NodeJS.ErrnoException).code;
  if (code?.startsWith('WS_ERR_') || code === 'ECONNRESET' || code === 'EPIPE') {
    req.log.warn({ code, reason: error.message }, 'websocket client error; closing');
    // ws stops reading after a protocol error, so it would wait its 30 s close timeout for the
    // client's close frame; the session (and its shell) ends sooner.
    setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
    return;
  }
  req.log.error({ err: error }, 'websocket failed');
  socket.terminate();
}
