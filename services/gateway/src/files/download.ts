import type { ByteRange } from '@berth/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StreamBackend } from '../streams/stream-backend.js';
import { traceOf } from '../trace.js';

/**
 * A file (or a directory as tar) from the workspace to the HTTP client, streamed: each message is
 * acked to pool-manager only once the socket took it, so a slow client pauses the agent's reads
 * and no side holds more than a window. Errors before the first byte are plain error answers;
 * one after the headers went out cuts the response (its length then does not match).
 */
export async function streamDownload(
  streams: StreamBackend,
  data: { id: string; owner: string; path: string; tar: boolean; range?: ByteRange },
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const handle = await streams.open('filesRead', data, { trace: traceOf(req.raw) });
  const { size, start, end, mtime } = handle.opened;
  reply.hijack();
  const res = reply.raw;
  if (res.destroyed || req.raw.socket?.destroyed === true) {
    handle.close();
    return;
  }
  const headers: Record<string, string | number> = {
    'content-type': data.tar ? 'application/x-tar' : 'application/octet-stream',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
  if (mtime) headers['last-modified'] = new Date(mtime).toUTCString();
  if (!data.tar && size !== null && end !== null) {
    headers['accept-ranges'] = 'bytes';
    headers['content-length'] = end - start + 1;
    if (data.range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  }
  res.writeHead(data.range && !data.tar ? 206 : 200, headers);
  res.on('close', () => handle.close());
  const write = (data: Uint8Array, seq: number) => {
    if (res.write(data)) handle.ack(seq);
    else res.once('drain', () => handle.ack(seq));
  };
  handle.listen(
    (msg) => {
      if (res.destroyed) return;
      if (msg.type === 'done') {
        res.end();
      } else if (msg.type === 'error') {
        req.log.warn({ id: data.id, code: msg.error.code }, 'download cut short');
        res.destroy();
      } else if (msg.type === 'data') {
        write(Buffer.from(msg.data, 'base64'), msg.seq);
      }
    },
    (msg) => {
      if (!res.destroyed) write(msg.data, msg.seq);
    },
  );
}
