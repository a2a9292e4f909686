import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** A tmux server of the test's own (its own socket), running one command in a window of a given size. */
export class TmuxSession {
  readonly socket = `berth-test-${randomBytes(4).toString('hex')}`;

  constructor(command: string, opts: { cwd: string; cols: number; rows: number }) {
    this.#tmux('new-session', '-d', '-s', 'main', '-x', String(opts.cols), '-y', String(opts.rows), '-c', opts.cwd, command);
  }

  #tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /** Types text as keys; `enter` presses Enter after it. */
  type(text: string, enter = true): void {
    this.#tmux('send-keys', '-t', 'main', '-l', text);
    if (enter) this.#tmux('send-keys', '-t', 'main', 'Enter');
  }

  resize(cols: number, rows: number): void {
    this.#tmux('resize-window', '-t', 'main', '-x', String(cols), '-y', String(rows));
  }

  /** The visible screen plus scrollback, as text. */
  screen(): string {
    return this.#tmux('capture-pane', '-p', '-t', 'main', '-S', '-200');
  }

  async waitFor(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.screen().match(re);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`the screen never matched ${re}:\n${this.screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(): void {
    try {
      this.#tmux('kill-server');
    } catch {
      /* already gone */
    }
  }
}
