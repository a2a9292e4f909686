import type { ServerResponse } from 'node:http';

/**
 * Writes to a response and waits for 'drain' whenever the socket's buffer is full, so whatever
 * feeds it is only pulled as fast as the client reads. Writes made in one tick go out together.
 */
export class StreamWriter {
  private corked = false;

  constructor(private readonly res: ServerResponse, private readonly signal: AbortSignal) {}

  async write(chunk: string): Promise<void> {
    if (this.signal.aborted) return;
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      setImmediate(() => { this.corked = false; this.res.uncork(); });
    }
    if (this.res.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      this.res.on('drain', done);
      this.signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** One Server-Sent Event; `data` is JSON, so it holds no newline. */
export const sseEvent = (id: number, event: string, data: string) => `id: ${id}\nevent: ${event}\ndata: ${data}\n\n`;
