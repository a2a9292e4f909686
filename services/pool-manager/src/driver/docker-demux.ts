import { Transform, type TransformCallback } from 'node:stream';
import type { OutputChunk } from './exec-process.js';

/**
 * Splits Docker's multiplexed attach stream (8-byte header: stream type, 3 zero bytes, size
 * big-endian) into output chunks. An object-mode Transform, so a slow reader back-pressures the
 * socket instead of piling frames up (dockerode's demuxStream ignores backpressure).
 */
export class DockerDemux extends Transform {
  private pending: Buffer = Buffer.alloc(0);

  constructor() {
    super({ readableObjectMode: true, readableHighWaterMark: 4 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const type = this.pending[0];
      const data = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      if (size > 0) this.push({ stream: type === 2 ? 'stderr' : 'stdout', data } satisfies OutputChunk);
    }
    done();
  }
}
