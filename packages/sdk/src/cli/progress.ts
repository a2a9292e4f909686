import type { SetupStatus } from '@berth/contracts';
import { UsageError } from './io.js';

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
    const took = Object.entries(s.durations).map(([phase, ms]) => `${phase} ${seconds(ms)}`).join(', ');
    const total = seconds(Date.parse(s.at) - Date.parse(s.startedAt));
    const why = s.phase === 'failed' && s.error ? `: ${s.error.code}: ${s.error.message}` : '';
    return `setup: ${s.phase} after ${total}${took ? ` (${took})` : ''}${why}\n`;
  }
  const where = s.phase === 'queued' || s.phase === 'cloning' ? ` ${s.repo}@${s.branch}` : '';
  return `setup: ${s.phase}${where}${s.sha ? ` ${s.sha.slice(0, 12)}` : ''}\n`;
}
