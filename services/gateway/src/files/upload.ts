import { BerthError, FILE_BYTES_CHUNK_MAX_BYTES, STREAM_WINDOW_DEFAULT, type FileEntry, type StreamOut } from '@berth/contracts';
import type { FastifyRequest } from 'fastify';
import type { StreamBackend } from '../streams/stream-backend.js';
import { traceOf } from '../trace.js';

/**
 * The request body into a workspace file (or a tar into a directory), streamed: at most a window
 * of chunks is unacknowledged, so a slow disk pauses the client's upload and no side holds more
 * than a window. Resolves with what was written once pool-manager says the file is in place; a
 * client that goes away cancels (the agent then drops its temporary file: nothing half-written).
 */
export async function streamUpload(
  streams: StreamBackend,
  data: { id: string; owner: string; path: string; tar: boolean; mode?: number; size?: number },
  req: FastifyRequest,
): Promise<FileEntry | undefined> {
  const handle = await streams.open('filesWrite', data, { trace: traceOf(req.raw) });
  let acked = 0;
  let room: (() => void) | undefined;
  let outcome: { entry?: FileEntry; error?: BerthError } | undefined;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const wake = () => {
    room?.();
    room = undefined;
  };
  handle.onAck((seq) => {
    acked = Math.max(acked, seq);
    wake();
  });
  handle.listen((msg: StreamOut) => {
    if (msg.type === 'done') outcome = { ...(msg.entry && { entry: msg.entry }) };
    else if (msg.type === 'error') outcome = { error: BerthError.fromBody({ error: msg.error }) };
    else return;
    handle.ack(msg.seq);
    wake();
    settle();
  });

  // A client that half-closes mid-body (sends FIN, waits for an answer) never gets a 'close' on
  // the request: its socket's end before the body's is the client going away all the same.
  const socket = req.raw.socket;
  const halfClosed = () => {
    if (!req.raw.complete) req.raw.destroy(new Error('the client ended the connection mid-body'));
  };
  socket.once('end', halfClosed);
  let seq = 0;
  const send = async (chunk: Buffer) => {
    while (!outcome && seq - acked >= STREAM_WINDOW_DEFAULT)
      await new Promise<void>((resolve) => {
        room = resolve;
      });
    if (outcome) return;
    seq += 1;
    handle.sendBytes(seq, chunk);
  };
  try {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // Not destroyed on an early stop: the rest is discarded, so the client still reads the answer.
    for await (const chunk of req.raw.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= FILE_BYTES_CHUNK_MAX_BYTES && !outcome) {
        const all = Buffer.concat(pending);
        await send(all.subarray(0, FILE_BYTES_CHUNK_MAX_BYTES));
        pending = [all.subarray(FILE_BYTES_CHUNK_MAX_BYTES)];
        pendingBytes = pending[0]!.length;
      }
      if (outcome) break;
    }
    if (!outcome && pendingBytes > 0) await send(Buffer.concat(pending));
  } catch (err) {
    // The client went away mid-body: cancel, so nothing is written.
    handle.close();
    socket.destroy();
    throw new BerthError('VALIDATION_FAILED', 'the upload ended before its body did; nothing was written', { cause: err });
  }
  socket.off('end', halfClosed);
  if (outcome) req.raw.resume();
  else handle.control({ type: 'eof', seq });
  await settled;
  handle.close();
  if (outcome?.error) throw outcome.error;
  return outcome?.entry;
}
