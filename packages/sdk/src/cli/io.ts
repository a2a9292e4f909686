/** What a command may touch, so tests and main.ts can hand in their own streams. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Reads all of stdin (login's API key). */
  readStdin(): Promise<string>;
  stdinIsTty: boolean;
  env: NodeJS.ProcessEnv;
  /** Subscribes to Ctrl-C (SIGINT) instead of dying of it; returns an unsubscribe. */
  onInterrupt?(listener: () => void): () => void;
  /** The process's own terminal streams, for `berth shell`; absent in tests of other commands. */
  tty?: TtyIo;
}

interface TtyIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  /** Subscribes to window size changes (SIGWINCH); returns an unsubscribe. */
  onResize(listener: () => void): () => void;
}

/** A mistake in how berth was called (or configured): exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** 130: what a shell reports for a command ended by SIGINT (128 + 2). */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;
