import { BerthError, type StreamControl } from '@berth/contracts';
import type { StreamSink } from '@berth/service-kit';

/**
 * A tar context arriving as upload bytes on a build's stream (numbered from 1, acknowledged as
 * taken), ended by `eof`. Exactly `size` bytes are accepted: more, fewer or a gap fails the build.
 */
export class ContextUpload {
  private readonly parts: Buffer[] = [];
  private received = 0;
  private next = 1;
  private settle: { resolve: (b: Buffer) => void; reject: (e: unknown) => void } | undefined;
  private outcome: { context?: Buffer; error?: unknown } | undefined;
  sink: StreamSink | undefined;

  constructor(private readonly size: number) {}

  onBytes(seq: number, data: Uint8Array): void {
    if (this.outcome) return;
    if (seq !== this.next) return this.fail(new BerthError('VALIDATION_FAILED', 'the build context lost bytes in transit'));
    this.next += 1;
    this.received += data.length;
    if (this.received > this.size) return this.fail(new BerthError('VALIDATION_FAILED', `the build context is larger than the ${this.size} bytes announced`));
    this.parts.push(Buffer.from(data));
    this.sink?.ack(seq);
  }

  onControl(msg: StreamControl): void {
    if (msg.type !== 'eof' || this.outcome) return;
    if (this.received !== this.size)
      return this.fail(new BerthError('VALIDATION_FAILED', `the build context ended after ${this.received} of ${this.size} bytes`));
    this.done({ context: Buffer.concat(this.parts) });
  }

  fail(error: unknown): void {
    this.done({ error });
  }

  /** The whole context, once its last byte and `eof` came. */
  whole(): Promise<Buffer> {
    if (this.outcome) return this.outcome.context ? Promise.resolve(this.outcome.context) : Promise.reject(this.outcome.error);
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  private done(outcome: { context?: Buffer; error?: unknown }): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.parts.length = 0;
    if (outcome.context) this.settle?.resolve(outcome.context);
    else this.settle?.reject(outcome.error);
  }
}
