import type { LogStreamName } from '@berth/contracts';
import type { LogEntry, LogReadOptions, LogReader, LogStart } from '../src/logs/log-reader.js';

/**
 * Stored lines in memory, read as the JetStream reader does: from a start, ending at the last
 * line unless following; `pulled` counts entries handed out, to check nothing is read ahead.
 */
export class FakeLogReader implements LogReader {
  readonly entries: LogEntry[] = [];
  readonly reads: { id: string; start: LogStart; follow: boolean }[] = [];
  pulled = 0;
  private wake: (() => void) | undefined;

  add(line: string, stream: LogStreamName = 'stdout', ts = new Date().toISOString().replace('Z', '000000Z'), cont = false): LogEntry {
    const entry: LogEntry = { seq: this.entries.length + 1, stream, line: { ts, n: 0, line, ...(cont && { cont: true as const }) } };
    this.entries.push(entry);
    this.wake?.();
    return entry;
  }

  async read(id: string, start: LogStart, opts: LogReadOptions): Promise<AsyncIterable<LogEntry>> {
    this.reads.push({ id, start, follow: opts.follow });
    const end = this.entries.length;
    let i = start.kind === 'after' ? start.seq : start.kind === 'tail' ? Math.max(0, end - start.lines) : 0;
    if (start.kind === 'since') i = this.entries.findIndex((e) => e.line.ts >= start.at.toISOString().replace('Z', '000000Z'));
    if (i < 0) i = end;
    return this.iterate(i, end, opts);
  }

  private async *iterate(from: number, end: number, opts: LogReadOptions): AsyncGenerator<LogEntry> {
    let i = from;
    while (!opts.signal.aborted) {
      if (i < this.entries.length && (opts.follow || i < end)) {
        this.pulled += 1;
        yield this.entries[i++]!;
      } else if (!opts.follow) {
        return;
      } else {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          opts.signal.addEventListener('abort', () => resolve(), { once: true });
        });
      }
    }
  }
}

/** Endless output, generated as it is pulled. */
export class EndlessLogReader implements LogReader {
  pulled = 0;

  async read(_id: string, _start: LogStart, opts: LogReadOptions): Promise<AsyncIterable<LogEntry>> {
    return this.iterate(opts);
  }

  private async *iterate(opts: LogReadOptions): AsyncGenerator<LogEntry> {
    while (!opts.signal.aborted) {
      this.pulled += 1;
      yield { seq: this.pulled, stream: 'stdout', line: { ts: '2026-01-01T00:00:00.000000000Z', n: this.pulled, line: 'x'.repeat(200) } };
    }
  }
}
