import type { ContainerOutputStream } from '@berth/contracts';

export interface Frame {
  stream: ContainerOutputStream;
  payload: Buffer;
}

const HEADER = 8;

/**
 * Splits Docker's multiplexed log stream (8-byte header: stream type, 3 zero bytes, big-endian
 * length) into frames. Chunks may cut frames anywhere; the remainder waits for the next chunk.
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    while (buf.length >= HEADER) {
      const size = buf.readUInt32BE(4);
      if (buf.length < HEADER + size) break;
      frames.push({ stream: buf[0] === 2 ? 'stderr' : 'stdout', payload: buf.subarray(HEADER, HEADER + size) });
      buf = buf.subarray(HEADER + size);
    }
    this.pending = Buffer.from(buf);
    return frames;
  }
}

/** A TTY container's log stream is not multiplexed: each `<timestamp> <output>\n` line is one stdout frame. */
export class RawLineDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    let start = 0;
    for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, start)) {
      frames.push({ stream: 'stdout', payload: buf.subarray(start, i + 1) });
      start = i + 1;
    }
    this.pending = Buffer.from(buf.subarray(start));
    return frames;
  }
}
