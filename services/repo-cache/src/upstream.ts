import type { BerthError } from '@berth/contracts';
import { classify, failureError, type FailureKind } from './classify.js';
import { runGit, type GitOptions, type GitResult } from './git.js';
import { REFSPECS } from './mirror.js';

/** How git reaches upstream: the clone URL of a repo, the proxy and a time limit. */
export interface Upstream {
  url(repo: string): string;
  proxy: string | undefined;
  timeoutMs: number;
}

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly error: BerthError,
    readonly stderr: string,
  ) {
    super(error.message);
  }
}

function check(repo: string, r: GitResult, token: string | undefined): void {
  if (r.code === 0) return;
  const kind = classify(r);
  throw new UpstreamFailure(kind, failureError(kind, repo, r, token !== undefined), r.stderr);
}

function options(up: Upstream, token: string | undefined, signal?: AbortSignal): GitOptions {
  return { token, proxy: up.proxy, timeoutMs: up.timeoutMs, ...(signal ? { signal } : {}) };
}

/** `git clone --bare` of `repo` into `dest` (which must not exist). */
export async function cloneBare(up: Upstream, repo: string, dest: string, token: string | undefined, signal?: AbortSignal): Promise<void> {
  check(repo, await runGit(['clone', '--bare', '--quiet', '--', up.url(repo), dest], options(up, token, signal)), token);
}

/** Brings an existing mirror up to date: branches and tags, deleted ones pruned. */
export async function fetchInto(up: Upstream, repo: string, mirror: string, token: string | undefined, signal?: AbortSignal): Promise<void> {
  const args = ['fetch', '--prune', '--quiet', '--no-write-fetch-head', '--', up.url(repo), ...REFSPECS];
  check(repo, await runGit(args, { ...options(up, token, signal), gitDir: mirror }), token);
}

/** One ls-refs round trip proving `token` (or no token) may read `repo`; used before handing out a private mirror without a fetch. */
export async function verifyAccess(up: Upstream, repo: string, token: string | undefined): Promise<void> {
  check(repo, await runGit(['ls-remote', '--quiet', '--', up.url(repo), 'HEAD'], options(up, token)), token);
}
