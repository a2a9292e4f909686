import type { ExecResult } from '@berth/contracts';
import { CappedOutput } from './driver/capped-output.js';
import type { ExecProcess } from './driver/exec-process.js';

/** How long after pool-manager's own deadline the backstop (agent timer, or `timeout`) kills a command. */
export const BACKSTOP_GRACE_MS = 5_000;

/**
 * `timeout` where the image has one (coreutils, busybox's applet); an image with only a shell runs
 * the command bare, still killed at pool-manager's own deadline. `exec`: no shell stays between.
 */
const BACKSTOP_SCRIPT = 'command -v timeout >/dev/null 2>&1 && exec timeout -s KILL "$0" "$@"; exec "$@"';

/**
 * Wraps argv so the command also dies without pool-manager: `timeout` kills its whole process
 * group shortly after pool-manager's own deadline (which kills marked escapees too).
 */
export function withBackstop(argv: string[], timeoutMs: number): string[] {
  return ['sh', '-c', BACKSTOP_SCRIPT, ((timeoutMs + BACKSTOP_GRACE_MS) / 1000).toFixed(3), ...argv];
}

/** Calls `onTimeout` (once) when `timeoutMs` passes before `done()` is called. */
export function deadline(timeoutMs: number, onTimeout: () => void): { expired: () => boolean; done: () => void } {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    onTimeout();
  }, timeoutMs);
  return { expired: () => expired, done: () => clearTimeout(timer) };
}

/**
 * Collects a process's output until it ends or runs out of time. Past the cap of a stream nothing
 * more is read: the command is killed (the agent does so itself, having sent only the cap; under
 * `docker exec`, and for an agent that sends more, pool-manager kills it and stops reading).
 */
export async function collect(proc: ExecProcess, opts: { timeoutMs: number; maxOutputBytes: number }): Promise<ExecResult> {
  const started = performance.now();
  const stdout = new CappedOutput(opts.maxOutputBytes);
  const stderr = new CappedOutput(opts.maxOutputBytes);
  const timer = deadline(opts.timeoutMs, () => {
    void proc.kill().catch(() => undefined);
  });
  try {
    for await (const chunk of proc.output) {
      const sink = chunk.stream === 'stdout' ? stdout : stderr;
      sink.write(chunk.data);
      if (sink.truncated) {
        void proc.kill().catch(() => undefined);
        break;
      }
    }
  } catch {
    // The attach socket failed; what arrived is reported, the exit code decides the rest.
  }
  timer.done();
  const exitCode = await proc.exitCode();
  const cut = proc.truncated();
  const stdoutTruncated = stdout.truncated || cut.stdout;
  const stderrTruncated = stderr.truncated || cut.stderr;
  return {
    exitCode,
    stdout: stdout.text(),
    stderr: stderr.text(),
    stdoutTruncated,
    stderrTruncated,
    truncated: stdoutTruncated || stderrTruncated,
    timedOut: timer.expired(),
    durationMs: Math.round(performance.now() - started),
  };
}
