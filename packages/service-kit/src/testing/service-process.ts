import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The monorepo root: the nearest parent holding pnpm-workspace.yaml. */
export function repoRoot(from = process.cwd()): string {
  let dir = from;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('not inside the berth repository');
    dir = up;
  }
  return dir;
}

/** A berth service (`services/<name>/src/main.ts`) as a real OS process, so tests can kill it. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  /** The last 20 kB of its stdout and stderr. */
  output = '';
  /** All of its stdout and stderr, when constructed with `keepAllOutput` (for tests that grep every log line). */
  allOutput = '';

  constructor(
    readonly service: string,
    private readonly env: Record<string, string>,
    private readonly opts: { keepAllOutput?: boolean } = {},
  ) {}

  start(): void {
    const main = join(repoRoot(), 'services', this.service, 'src', 'main.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      cwd: repoRoot(),
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
      if (this.opts.keepAllOutput) this.allOutput += d.toString();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.child = child;
  }

  /** The service's process id while it runs (its RSS and fds are under /proc/<pid>). */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal without waiting for anything (e.g. SIGHUP to reload). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child?.kill(signal);
  }

  /**
   * Stops the process and waits for its exit. A SIGTERM it has not obeyed within `graceMs` is
   * followed by SIGKILL: a service stuck in its shutdown must not outlive the test that started it.
   */
  async kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL', graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = signal === 'SIGTERM' ? setTimeout(() => child.kill('SIGKILL'), graceMs) : undefined;
    await gone;
    clearTimeout(timer);
  }
}
