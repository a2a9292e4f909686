import { BerthError } from '@berth/contracts';
import type { GitResult } from './git.js';

/**
 * What a failed clone or fetch means for the caller: the repository is missing, the credential
 * was refused (or needed), egress does not allow the host, upstream (or the way to it) is down,
 * or something went wrong here.
 */
export type FailureKind = 'not-found' | 'auth' | 'not-allowed' | 'upstream' | 'local';

/** egress's refusal (services/egress/src/proxy/server.ts): its text for plain HTTP, a 403 to CONNECT for HTTPS. */
const NOT_ALLOWED = [/is not on the allow-list/i, /received HTTP code 403 from proxy/i];
const AUTH = [
  /returned error: (401|403)\b/,
  /authentication failed/i,
  /could not read (username|password)/i,
  /terminal prompts disabled/i,
  /invalid username or (password|token)/i,
  /permission to .* denied/i,
];
const NOT_FOUND = [/repository .* not found/i, /returned error: 404\b/];
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

/** Classifies a failed network git command from its exit and (scrubbed) stderr; the first match wins. */
export function classify(r: GitResult): FailureKind {
  if (r.timedOut) return 'upstream';
  // Egress first: its refusal also reads as a 403 to git.
  if (NOT_ALLOWED.some((re) => re.test(r.stderr))) return 'not-allowed';
  // "Repository not found" beside a 401 is GitHub's text for either; the 401 decides.
  if (AUTH.some((re) => re.test(r.stderr))) return 'auth';
  if (NOT_FOUND.some((re) => re.test(r.stderr))) return 'not-found';
  if (UPSTREAM.some((re) => re.test(r.stderr))) return 'upstream';
  return 'local';
}

/** The error a caller sees: a stable code and the last line of git's (already scrubbed) message. */
export function failureError(kind: FailureKind, repo: string, r: GitResult, withToken = false): BerthError {
  const why = r.timedOut ? 'timed out' : lastLine(r.stderr);
  switch (kind) {
    case 'not-found':
      return new BerthError('REPO_NOT_FOUND', `repository ${repo} was not found upstream (or the token cannot see it)`);
    case 'auth':
      // GitHub answers 401 to a missing repository too when no token is sent: it never says which.
      return new BerthError(
        'REPO_AUTH_FAILED',
        withToken ? `upstream refused the token for ${repo}: ${why}` : `${repo} needs a token (it is private, or does not exist): ${why}`,
      );
    case 'not-allowed':
      return new BerthError('REPO_HOST_NOT_ALLOWED', `egress does not allow the repository host of ${repo}: ${why}`);
    default:
      return new BerthError('UPSTREAM_UNAVAILABLE', `fetching ${repo} failed: ${why}`, { retryAfterSeconds: 5 });
  }
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (lines.at(-1) ?? 'git failed').slice(0, 300);
}
