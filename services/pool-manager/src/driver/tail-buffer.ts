/** Keeps the last `cap` bytes written (a failing command says why at the end of its output). */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly cap: number) {}

  write(data: Buffer): void {
    this.chunks.push(data);
    this.size += data.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.cap && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  /** The kept bytes as UTF-8, cut to `cap` (a split character decodes as U+FFFD). */
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.cap)).toString('utf8');
  }
}
