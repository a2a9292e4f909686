import { SETUP_APPEND_MAX_LINES, type SetupOutputLine, type SetupPhase } from '@berth/contracts';
import { request, type Logger, type NatsConnection } from '@berth/service-kit';
import type { OutputChunk } from '../driver/exec-process.js';
import { LineSplitter, OutputAllowance, lineSecrets } from './setup-lines.js';

/** Where a setup's lines go: log-streamer, which stores them as the container's `setup` log stream. */
export type SetupLineSender = (id: string, lines: SetupOutputLine[]) => Promise<void>;

export const natsSetupLineSender =
  (nc: NatsConnection): SetupLineSender =>
  async (id, lines) => {
    await request(nc, 'logsAppend', { id, lines }, { timeoutMs: 5_000 });
  };

export const SETUP_OUTPUT_LIMITS = {
  /** Lines wait this long to go out together. */
  batchMs: 100,
  /** Bytes in one append at most (with SETUP_APPEND_MAX_LINES). */
  batchBytes: 64 * 1024,
  /** The rate bound: bytes a second, and a burst (an install's first screens). */
  bytesPerSecond: 32 * 1024,
  burstBytes: 256 * 1024,
  /** Lines waiting while log-streamer is slow, at most (beyond: dropped and counted). */
  queueBytes: 256 * 1024,
  /** A phase change waits at most this long for its lines to be stored. */
  flushWaitMs: 3_000,
};

export interface ProcessOutput {
  write(chunk: OutputChunk): void;
  /** The process ended: its unfinished last lines go too. */
  end(): void;
}

const size = (l: SetupOutputLine) => Buffer.byteLength(l.line) + 64;

/**
 * One setup's output into the container's logs, live: phase lines (`[setup] ...`) and the output
 * of what it runs, scrubbed and bounded (SETUP_OUTPUT_LIMITS). Lines over the rate or while
 * log-streamer is slow or down are dropped and counted (a line says how many), so logging never
 * slows or fails a setup; `phase()` waits (a little) until the lines before it are stored, so a
 * phase's lines come before the next phase's status and output.
 */
export class SetupOutput {
  private current: SetupPhase = 'queued';
  private queue: SetupOutputLine[] = [];
  private queued = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private warned = false;
  private readonly secrets: string[];
  private readonly allowance: OutputAllowance;

  constructor(
    private readonly id: string,
    secrets: readonly string[],
    private readonly send: SetupLineSender,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly limits = SETUP_OUTPUT_LIMITS,
    now: () => number = Date.now,
  ) {
    this.secrets = lineSecrets(secrets);
    this.allowance = new OutputAllowance(limits.bytesPerSecond, limits.burstBytes, now);
  }

  /** Enters `phase` with a `[setup] <text>` line, once what came before is stored (or flushWaitMs passed). */
  async phase(phase: SetupPhase, text: string): Promise<void> {
    this.current = phase;
    this.note(text);
    await this.flush();
  }

  /** A `[setup] <text>` line of the current phase (scrubbed like any other). */
  note(text: string): void {
    for (const line of new LineSplitter(this.secrets).push(`${text}\n`)) this.add(`[setup] ${line}`, true);
  }

  /** Output a setup process printed all at once (a task's, known when it ended). */
  text(text: string): void {
    const splitter = new LineSplitter(this.secrets);
    for (const line of [...splitter.push(text), ...splitter.end()]) this.add(line);
  }

  /** A process's output as it comes, stdout and stderr split into lines each on their own. */
  process(): ProcessOutput {
    const streams = { stdout: new LineSplitter(this.secrets), stderr: new LineSplitter(this.secrets) };
    return {
      write: (chunk) => {
        for (const line of streams[chunk.stream].push(chunk.data)) this.add(line);
      },
      end: () => {
        for (const s of Object.values(streams)) for (const line of s.end()) this.add(line);
      },
    };
  }

  /** Sends what is queued and waits for it (at most flushWaitMs); never throws. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.limits.flushWaitMs);
    });
    try {
      await Promise.race([this.drain(), waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  private add(line: string, phaseLine = false): void {
    // Phase lines always go (they are few); they are not charged either.
    if (!phaseLine && (!this.allowance.take(line) || this.queued + size({ line, phase: this.current }) > this.limits.queueBytes)) {
      this.dropped += 1;
      return;
    }
    if (this.dropped > 0) {
      this.push({
        line: `[setup] ${this.dropped} line${this.dropped === 1 ? '' : 's'} of output not shown (over the setup output limit)`,
        phase: this.current,
      });
      this.dropped = 0;
    }
    this.push({ line, phase: this.current });
  }

  private push(line: SetupOutputLine): void {
    this.queue.push(line);
    this.queued += size(line);
    if (!this.timer && !this.sending)
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, this.limits.batchMs);
  }

  /** Sends batches one at a time until the queue is empty. */
  private drain(): Promise<void> {
    this.sending ??= (async () => {
      while (this.queue.length > 0) {
        const batch = this.take();
        try {
          await this.send(this.id, batch);
        } catch (err) {
          if (!this.warned) this.logger.warn({ err, id: this.id }, 'setup output not stored in the logs; lines dropped');
          this.warned = true;
        }
      }
    })().finally(() => {
      this.sending = undefined;
      // Lines queued after the loop's last look.
      if (this.queue.length > 0 && !this.timer)
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.drain();
        }, this.limits.batchMs);
    });
    return this.sending;
  }

  private take(): SetupOutputLine[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < SETUP_APPEND_MAX_LINES && (n === 0 || bytes + size(this.queue[n]!) <= this.limits.batchBytes))
      bytes += size(this.queue[n++]!);
    this.queued -= bytes;
    return this.queue.splice(0, n);
  }
}
