import { EXEC_STREAM_KEEPALIVE_MS, type ExecStreamEvent, type StreamOut } from '@berth/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StreamBackend, StreamOpenData } from '../streams/stream-backend.js';
import { traceOf } from '../trace.js';

/** The HTTP event for a stream message; undefined for messages an exec never sends. */
function toExecEvent(msg: StreamOut): ExecStreamEvent | undefined {
  switch (msg.type) {
    case 'out':
      return { type: msg.stream, data: msg.text };
    case 'end':
      return { type: 'exit', exitCode: msg.exitCode, timedOut: msg.timedOut, durationMs: msg.durationMs };
    case 'error':
      return { type: 'error', error: { code: msg.error.code, message: msg.error.message, retryable: msg.error.retryable } };
    default:
      return undefined;
  }
}

export function wantsSse(req: FastifyRequest): boolean {
  return /(^|,)\s*text\/event-stream/.test(req.headers.accept ?? '');
}

/** How a streamed answer's events are written: NDJSON lines, or SSE (event name = type, id = sequence). */
export const formatters = {
  ndjson: { event: (e: { type: string }) => `${JSON.stringify(e)}\n`, keepalive: '\n' },
  sse: { event: (e: { type: string }, seq: number) => `id: ${seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`, keepalive: ': keepalive\n\n' },
};

/**
 * Streams an exec's output to the HTTP client as NDJSON, or SSE when asked. Each message is acked
 * to pool-manager only once the socket took it, so a slow client pauses the command (nothing is
 * dropped; the gateway holds at most one window). A client that goes away cancels the command.
 * The headers go out at once and, while the command is silent, a keepalive every `keepaliveMs`
 * (an empty line, which NDJSON readers skip, or an SSE comment).
 */
export async function streamExec(
  streams: StreamBackend,
  data: StreamOpenData<'containerExecStream'>,
  req: FastifyRequest,
  reply: FastifyReply,
  deadlineMs: number,
  keepaliveMs = EXEC_STREAM_KEEPALIVE_MS,
): Promise<void> {
  // Open before answering, so a missing container is still a plain 404.
  const handle = await streams.open('containerExecStream', data, { deadlineMs, trace: traceOf(req.raw) });
  const sse = wantsSse(req);
  const format = sse ? formatters.sse : formatters.ndjson;
  reply.hijack();
  const res = reply.raw;
  // The client may have left while the command was starting: 'close' has fired already.
  if (res.destroyed || req.raw.socket?.destroyed === true) {
    handle.close();
    return;
  }
  res.writeHead(200, {
    'content-type': sse ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  // Node holds headers back until the first body write, which a silent command may never make.
  res.flushHeaders();
  let done = false;
  // Reset by every write, so it fires only after keepaliveMs of silence.
  const keepalive = setInterval(() => {
    if (!res.destroyed && res.writableLength === 0) res.write(format.keepalive);
  }, keepaliveMs);
  keepalive.unref();
  res.on('close', () => {
    clearInterval(keepalive);
    if (!done) req.log.info({ id: data.id }, 'exec stream client went away; cancelling the command');
    handle.close();
  });
  handle.listen((msg) => {
    const event = toExecEvent(msg);
    if (!event || res.destroyed) return;
    const flushed = res.write(format.event(event, msg.seq));
    keepalive.refresh();
    if (event.type === 'exit' || event.type === 'error') {
      done = true;
      clearInterval(keepalive);
      res.end();
      return;
    }
    if (flushed) handle.ack(msg.seq);
    else res.once('drain', () => handle.ack(msg.seq));
  });
}
