import { BerthError } from '@berth/contracts';
import type { GitResult } from './git.js';

/** What a failed clone or fetch means for the caller. */
export type FailureKind = 'not-found' | 'upstream' | 'local';

const NOT_FOUND = [
  /repository .* not found/i,
  /returned error: (401|403|404)\b/,
  /authentication failed/i,
  /could not read (username|password)/i,
  /terminal prompts disabled/i,
  /invalid username or (password|token)/i,
];
const UPSTREAM = [
  /returned error: 5\d\d\b/,
  /could not resolve (host|proxy)/i,
  /failed to connect/i,
  /connection (refused|reset|timed out)/i,
  /operation timed out/i,
  /proxy connect aborted/i,
  /received HTTP code \d+ from proxy/i,
  /unable to access/i,
  /early EOF|unexpected disconnect|RPC failed|remote end hung up/i,
  /SSL|TLS|certificate/,
  /returned error: (407|429)\b/,
];

/** Classifies a failed network git command from its exit and (scrubbed) stderr. */
export function classify(r: GitResult): FailureKind {
  if (r.timedOut) return 'upstream';
  if (NOT_FOUND.some((re) => re.test(r.stderr))) return 'not-found';
  if (UPSTREAM.some((re) => re.test(r.stderr))) return 'upstream';
  return 'local';
}

/** The error a caller sees: a stable code and the last line of git's (already scrubbed) message. */
export function failureError(kind: FailureKind, repo: string, r: GitResult): BerthError {
  const why = r.timedOut ? 'timed out' : lastLine(r.stderr);
  if (kind === 'not-found') return new BerthError('REPO_NOT_FOUND', `repository ${repo} was not found upstream or the token cannot read it`);
  return new BerthError('UPSTREAM_UNAVAILABLE', `fetching ${repo} failed: ${why}`, { retryAfterSeconds: 5 });
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.at(-1) ?? 'git failed').slice(0, 300);
}
