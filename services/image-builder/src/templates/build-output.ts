import { STREAM_CHUNK_MAX_BYTES } from '@berth/contracts';
import type { StreamSink } from '@berth/service-kit';

/** Output held for a client that reads slower than the build writes; past it, output is dropped (once noted). */
const MAX_PENDING_CHARS = 4 * 1024 * 1024;

/**
 * A build's output onto its stream, in order. The engine's output cannot be paused, so what a slow
 * client has not taken yet waits here, up to MAX_PENDING_CHARS; the build itself never waits.
 */
export class BuildOutput {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private dropping = false;

  constructor(private readonly sink: StreamSink) {}

  push(text: string): void {
    if (this.pending + text.length > MAX_PENDING_CHARS) {
      if (this.dropping) return;
      this.dropping = true;
      text = '[berth: build output dropped here: the client reads slower than the build writes]\n';
    } else {
      this.dropping = false;
    }
    for (let i = 0; i < text.length; i += STREAM_CHUNK_MAX_BYTES / 4) {
      const part = text.slice(i, i + STREAM_CHUNK_MAX_BYTES / 4);
      this.pending += part.length;
      this.chain = this.chain
        .then(() => this.sink.send({ type: 'out', stream: 'stdout', text: part }))
        .finally(() => {
          this.pending -= part.length;
        });
    }
  }

  /** Resolves once everything pushed so far was sent (or the stream was cancelled). */
  flushed(): Promise<void> {
    return this.chain.catch(() => undefined);
  }
}
