import { FILE_BYTES_CHUNK_MAX_BYTES, STREAM_WINDOW_DEFAULT } from '@berth/contracts';
import type { StreamHandle } from '../streams/stream-backend.js';

/**
 * Sends a build context to one host's build stream as upload bytes, at most a window of chunks
 * unacknowledged, then `eof`. `stop()` (the stream ended) ends the sending early.
 */
export function sendContext(handle: StreamHandle, context: Buffer): { stop: () => void } {
  let acked = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    wake?.();
    wake = undefined;
  };
  handle.onAck((seq) => {
    acked = Math.max(acked, seq);
    wakeUp();
  });
  void (async () => {
    let seq = 0;
    for (let off = 0; off < context.length; off += FILE_BYTES_CHUNK_MAX_BYTES) {
      while (!stopped && seq - acked >= STREAM_WINDOW_DEFAULT)
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      if (stopped) return;
      seq += 1;
      handle.sendBytes(seq, context.subarray(off, off + FILE_BYTES_CHUNK_MAX_BYTES));
    }
    handle.control({ type: 'eof', seq });
  })();
  return {
    stop: () => {
      stopped = true;
      wakeUp();
    },
  };
}
