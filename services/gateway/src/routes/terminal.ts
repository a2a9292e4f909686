import {
  BerthError,
  TerminalClientFrameSchema,
  WS_MAX_MESSAGE_BYTES,
  type StreamControl,
  type TerminalClientFrame,
  type TerminalServerFrame,
} from '@berth/contracts';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { API_ERRORS, ID_PARAMS, errorResponses } from '../openapi.js';
import type { StreamBackend } from '../streams/stream-backend.js';
import { containerIdOf } from './common.js';
import { traceOf } from '../trace.js';

const TERMINAL_DESCRIPTION = [
  'A WebSocket to an interactive shell (bash when the image has it, else sh) on a real PTY.',
  'Authenticate with `Authorization: Bearer` or, from a browser, a ticket from `POST /api/containers/{id}/tickets`:',
  'offer the subprotocols `berth.terminal.v1` and `berth.ticket.<ticket>` (or pass `?ticket=`). A ticket works once, for 30 s.',
  '**Frames**: binary frames carry terminal bytes both ways (keystrokes in, output out).',
  'A client text frame is a control message when it is one berth defines: `{"type":"resize","cols":120,"rows":40}`;',
  "any other text frame is keystrokes (its UTF-8 bytes go to the shell, as Artie's clients send them).",
  'Server text frames: `{"type":"exit","code":0}` when the shell ends (then close 1000), `{"type":"error","code","message"}` (then close 1011,',
  'or 1013 with code SERVICE_UNAVAILABLE when pool-manager stopped answering: the shell is lost, a new terminal may work).',
  `Messages over ${WS_MAX_MESSAGE_BYTES / 1024} KiB close the socket with 1009; a control message with a berth type but bad fields closes it with 1003.`,
  'Closing the socket kills the shell and everything it started. Initial size: `?cols=&rows=` (default 80x24).',
].join('\n\n');

const SizeQuery = z.object({
  cols: z.coerce.number().int().min(1).max(1000).default(80),
  rows: z.coerce.number().int().min(1).max(1000).default(24),
});

const sendFrame = (socket: WebSocket, frame: TerminalServerFrame) => socket.send(JSON.stringify(frame));

const CONTROL_TYPES: ReadonlySet<unknown> = new Set(TerminalClientFrameSchema.options.map((o) => o.shape.type.value));

/**
 * A text frame's control message; undefined when the frame is keystrokes (anything that is not a
 * JSON object with a control `type`), 'malformed' for a control type with bad fields.
 */
function controlOf(text: string): TerminalClientFrame | 'malformed' | undefined {
  if (!text.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !CONTROL_TYPES.has((parsed as { type?: unknown }).type)) return undefined;
  const frame = TerminalClientFrameSchema.safeParse(parsed);
  return frame.success ? frame.data : 'malformed';
}

export const terminalRoutes: FastifyPluginAsync<{ streams: StreamBackend }> = async (app, { streams }) => {
  // `wsHandler` with a plain `handler`, not `websocket: true`, which would hide the route from the OpenAPI document.
  app.route({
    method: 'GET',
    url: '/containers/:id/terminal',
    config: { ticket: true },
    schema: {
      operationId: 'openTerminal',
      tags: ['containers'],
      summary: 'Interactive terminal (WebSocket)',
      description: TERMINAL_DESCRIPTION,
      params: ID_PARAMS,
      response: { 101: { description: 'Switching to the WebSocket protocol' }, ...errorResponses('VALIDATION_FAILED', 'CONTAINER_NOT_FOUND', ...API_ERRORS) },
    },
    handler: async () => {
      throw new BerthError('VALIDATION_FAILED', 'this route needs a WebSocket upgrade');
    },
    wsHandler: (socket, req) => runTerminal(socket, req, streams),
  });
};

/** One terminal session: WebSocket frames ⇄ stream messages, until either side ends. */
function runTerminal(socket: WebSocket, req: FastifyRequest, streams: StreamBackend): void {
  // Listen at once: frames sent before the shell is up are kept (at most 256, then the socket is closed).
  const early: StreamControl[] = [];
  let forward = (msg: StreamControl) => {
    if (early.length < 256) early.push(msg);
    else socket.close(1008, 'too much input before the shell started');
  };
  let close = () => undefined as void;
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    const control = isBinary ? undefined : controlOf(data.toString('utf8'));
    if (control === 'malformed') {
      socket.close(1003, 'malformed control message');
      return;
    }
    forward(control ?? { type: 'input', data: data.toString('base64') });
  });
  socket.on('close', () => close());

  void (async () => {
    const query = SizeQuery.safeParse(req.query ?? {});
    if (!query.success) throw new BerthError('VALIDATION_FAILED', 'cols and rows must be integers from 1 to 1000');
    const size = query.data;
    const handle = await streams.open('terminalOpen', { id: containerIdOf(req.params), owner: req.owner, ...size }, { trace: traceOf(req.raw) });
    close = () => handle.close();
    if (socket.readyState !== socket.OPEN) {
      handle.close();
      return;
    }
    forward = (msg) => handle.control(msg);
    for (const m of early.splice(0)) handle.control(m);
    handle.listen((msg) => {
      if (msg.type === 'pty') socket.send(Buffer.from(msg.data, 'base64'), { binary: true }, () => handle.ack(msg.seq));
      else if (msg.type === 'end') {
        sendFrame(socket, { type: 'exit', code: msg.exitCode });
        socket.close(1000, 'shell exited');
      } else if (msg.type === 'error') {
        sendFrame(socket, { type: 'error', code: msg.error.code, message: msg.error.message });
        // 1013 "try again later": the shell is lost with its pool-manager; a new terminal may work.
        if (msg.error.code === 'SERVICE_UNAVAILABLE') socket.close(1013, 'pool-manager unavailable');
        else socket.close(1011, 'terminal failed');
      }
    });
  })().catch((err: unknown) => {
    const e = err instanceof BerthError ? err : new BerthError('INTERNAL', 'terminal failed');
    if (!(err instanceof BerthError)) req.log.error({ err }, 'terminal failed');
    if (socket.readyState === socket.OPEN) {
      sendFrame(socket, { type: 'error', code: e.code, message: e.message });
      socket.close(1011, e.code);
    }
  });
}
