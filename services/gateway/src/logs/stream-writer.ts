import type { ServerResponse } from 'node:http';

/** Bytes gathered before a write goes out without waiting for the end of the tick. */
const FLUSH_BYTES = 64 * 1024;

/**
 * Writes to a response and, once the socket's buffer is full, holds every further write until
 * 'drain', so whatever feeds it is only pulled as fast as the client reads. Writes made in one
 * tick go out as one.
 */
export class StreamWriter {
  private pending: string[] = [];
  private size = 0;
  private scheduled = false;
  private blocked: Promise<void> | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly signal: AbortSignal,
  ) {}

  async write(chunk: string): Promise<void> {
    if (this.blocked) await this.blocked;
    if (this.signal.aborted) return;
    this.pending.push(chunk);
    this.size += chunk.length;
    if (this.size >= FLUSH_BYTES) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
    if (this.blocked) await this.blocked;
  }

  /** Sends what is pending and ends the response. */
  end(): void {
    this.flush();
    this.res.end();
  }

  private flush(): void {
    if (this.size === 0 || this.res.writableEnded) return;
    const data = this.pending.join('');
    this.pending = [];
    this.size = 0;
    if (this.res.write(data) || this.blocked) return;
    this.blocked = new Promise<void>((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.signal.removeEventListener('abort', done);
        this.blocked = undefined;
        resolve();
      };
      this.res.on('drain', done);
      this.signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** One unnamed Server-Sent Event (`EventSource.onmessage` gets it); `data` is JSON, so it holds no newline. */
export const sseEvent = (id: number, data: string) => `id: ${id}\ndata: ${data}\n\n`;
