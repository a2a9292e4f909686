import { Writable } from 'node:stream';

/** Collects a stream up to `cap` bytes and remembers whether more arrived (then drops it). */
export class CappedOutput extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly cap: number) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const room = this.cap - this.size;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(part);
      this.size += part.length;
    }
    if (chunk.length > room) this.truncated = true;
    done();
  }

  text(): string {
    // A cut in the middle of a UTF-8 sequence decodes as U+FFFD, never as invalid JSON.
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
