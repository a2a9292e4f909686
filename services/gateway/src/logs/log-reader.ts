import type { LogLine, LogStreamName } from '@berth/contracts';

export interface LogEntry {
  /** The line's SSE event id, growing line by line (for JetStream, logEventId of its message and index). */
  seq: number;
  stream: LogStreamName;
  line: LogLine;
}

/** Where reading starts: after a sequence (resume), at a time, the last N lines, or the beginning. */
export type LogStart =
  /** After the line whose event id (LogEntry.seq) is `seq`. */
  { kind: 'after'; seq: number } | { kind: 'since'; at: Date } | { kind: 'tail'; lines: number } | { kind: 'all' };

export interface LogReadOptions {
  /** Keep waiting for new lines; otherwise end at the last line stored when reading began. */
  follow: boolean;
  signal: AbortSignal;
}

/**
 * A container's stored output, in order. Entries are pulled in small batches only as the caller
 * consumes them, so a slow HTTP client holds back reading instead of filling memory. Setup
 * errors (no LOGS stream) reject before any entry. The real one reads JetStream; tests use a fake.
 */
export interface LogReader {
  read(workspaceId: string, start: LogStart, opts: LogReadOptions): Promise<AsyncIterable<LogEntry>>;
}
