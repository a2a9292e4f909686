import { randomBytes } from 'node:crypto';
import type { BerthError, ErrorBody, FileWatchEvent } from '@berth/contracts';
import type { StreamSink } from '@berth/service-kit';

export type WatchEndReason = Extract<FileWatchEvent, { kind: 'end' }>['reason'];
type Final = { type: 'done' } | { type: 'error'; error: ErrorBody['error'] };

/** What a resume must name again: the same workspace, owner, path and depth. */
export interface WatchKey {
  workspace: string;
  owner: string;
  path: string;
  recursive: boolean;
}

export interface WatchOptions {
  /** How long the watch outlives its stream, for a resume. */
  resumeMs: number;
  /** Events kept for a resume (and for a slow stream). */
  bufferEvents: number;
  /** Ends the watch in the agent (closes its connection). */
  close: () => void;
  /** Removes the watch from its registry. */
  onGone: (watch: FileWatch) => void;
}

/**
 * One watch of a workspace's directory, in pool-manager: the agent's events, numbered and kept
 * (the last `bufferEvents`), streamed to one caller at a time. A stream that goes away leaves the
 * watch running for `resumeMs`; a resume (Last-Event-ID) takes it up from the event it names,
 * or says with a `reset` that what it missed is no longer kept.
 */
export class FileWatch {
  readonly id = `w_${randomBytes(12).toString('hex')}`;
  private readonly kept: { seq: number; event: FileWatchEvent }[] = [];
  private seq = 0;
  private final: Final | undefined;
  private sink: StreamSink | undefined;
  private waiters: (() => void)[] = [];
  private linger: NodeJS.Timeout | undefined;
  private gone = false;

  constructor(
    readonly key: WatchKey,
    private readonly opts: WatchOptions,
  ) {}

  get over(): boolean {
    return this.final !== undefined;
  }

  add(event: FileWatchEvent): void {
    if (this.final) return;
    this.seq += 1;
    this.kept.push({ seq: this.seq, event });
    if (this.kept.length > this.opts.bufferEvents) this.kept.shift();
    this.notify();
  }

  /** Ends the watch cleanly: an `end` event, then the stream's end. */
  end(reason: WatchEndReason): void {
    if (this.final) return;
    this.add({ kind: 'end', reason });
    this.finish({ type: 'done' });
  }

  /** Ends the watch with an error (the stream's last message). */
  fail(err: BerthError): void {
    this.finish({ type: 'error', error: err.toBody().error });
  }

  /**
   * Streams to `sink`: the events after `after` (a resume), or all. A stream attached before is
   * ended (a client that reconnected before its old connection was noticed gone).
   */
  attach(sink: StreamSink, after?: number, notice?: 'unknown'): void {
    clearTimeout(this.linger);
    this.sink = sink;
    this.notify();
    void sink.cancelled.then(() => {
      sink.close();
      this.notify();
    });
    void this.pump(sink, after === undefined ? 1 : Math.min(after, this.seq) + 1, notice);
  }

  private async pump(sink: StreamSink, from: number, notice: 'unknown' | undefined): Promise<void> {
    let next = from;
    if (notice) await sink.send({ type: 'watch', id: `${this.id}.0`, event: { kind: 'reset', reason: notice } });
    for (;;) {
      if (sink.closed || this.sink !== sink) break;
      const oldest = this.kept[0]?.seq ?? this.seq + 1;
      if (next < oldest) {
        // Gone from the buffer: say so once, then go on from what is kept.
        await sink.send({ type: 'watch', id: `${this.id}.${oldest - 1}`, event: { kind: 'reset', reason: 'expired' } });
        next = oldest;
      } else if (next <= this.seq) {
        const { seq, event } = this.kept[next - oldest]!;
        await sink.send({ type: 'watch', id: `${this.id}.${seq}`, event });
        next += 1;
      } else if (this.final) {
        sink.finish(this.final);
        break;
      } else {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    }
    if (this.sink !== sink) {
      // Replaced by a newer stream of the same caller.
      if (!sink.closed) sink.finish({ type: 'done' });
      return;
    }
    this.sink = undefined;
    if (this.final || this.opts.resumeMs === 0) this.release();
    else this.linger = setTimeout(() => this.release(), this.opts.resumeMs);
  }

  /** Ends the watch in the agent and forgets it. */
  release(): void {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.linger);
    this.final ??= { type: 'done' };
    this.opts.close();
    this.opts.onGone(this);
    this.notify();
  }

  private finish(final: Final): void {
    if (this.final) return;
    this.final = final;
    this.opts.close();
    this.notify();
    if (!this.sink) this.release();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
