import type { SetupStatus } from '@berth/contracts';
import type { LogLine } from '../logs.js';
import { UsageError } from './io.js';
import { printable } from './terminal-text.js';

/** `owner/repo@branch` (branch defaults to main). The contracts check the names themselves. */
export function parseRepoRef(ref: string): { repo: string; branch: string } {
  const at = ref.lastIndexOf('@');
  const repo = at === -1 ? ref : ref.slice(0, at);
  const branch = at === -1 ? 'main' : ref.slice(at + 1);
  if (!/^[^/\s]+\/[^/\s]+$/.test(repo) || branch === '') throw new UsageError(`--repo must look like owner/repo@branch, got "${ref}"`);
  return { repo, branch };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * One line per setup phase as it starts, with the time the previous one took:
 * `setup: cloning acme/app@main` ... `setup: ready (cloning 1.2 s, installing 8.0 s)`.
 */
export function progressLine(s: SetupStatus): string {
  if (s.phase === 'ready' || s.phase === 'failed') {
    const took = Object.entries(s.durations)
      .map(([phase, ms]) => `${phase} ${seconds(ms)}`)
      .join(', ');
    const total = seconds(Date.parse(s.at) - Date.parse(s.startedAt));
    const why = s.phase === 'failed' && s.error ? `: ${s.error.code}: ${printable(s.error.message)}` : '';
    return `setup: ${s.phase} after ${total}${took ? ` (${took})` : ''}${why}\n`;
  }
  const where = s.phase === 'queued' || s.phase === 'cloning' ? ` ${s.repo}@${s.branch}` : '';
  return `setup: ${s.phase}${where}${s.sha ? ` ${s.sha.slice(0, 12)}` : ''}\n`;
}

/**
 * A line of the container's logs during `create --repo`, as it comes: the setup's own lines as they
 * are (`[setup] ...` and what clone and install printed), the container's output (its dev server)
 * marked with its stream. Made printable: it came from a workspace.
 */
export function outputLine(l: LogLine): string {
  const text = `${printable(l.line)}${l.continued ? '' : '\n'}`;
  return l.stream === 'setup' ? `  ${text}` : `  [${l.stream ?? 'output'}] ${text}`;
}

/**
 * Why `create --repo` ended without a ready workspace, from the setup's own status (read again
 * after the error when the error did not carry it): a failed setup's code, message and log tail,
 * or the phase it was still in when the wait ended; the call's error only when no setup status
 * exists (the setup was never accepted).
 */
export function setupFailure(id: string, status: SetupStatus | undefined, err: unknown): string {
  const kept = `the container is kept (berth rm ${id} removes it)`;
  if (!status) return `berth: setup of ${id} did not start: ${err instanceof Error ? err.message : String(err)}; ${kept}\n`;
  const tail = status.logTail
    ? `${printable(status.logTail)
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => `  | ${l}`)
        .join('\n')}\n`
    : '';
  if (status.phase === 'failed') {
    const why = status.error ? `${status.error.code}: ${printable(status.error.message)}` : 'no reason given';
    return `${tail}berth: setup of ${id} failed (${why}); ${kept}\n`;
  }
  const stopped = err instanceof Error ? err.message : String(err);
  return `${tail}berth: setup of ${id} is at phase ${status.phase} (seq ${status.seq}); stopped waiting: ${stopped}; ${kept}\n`;
}
