import { z } from 'zod';

/** `owner/repo` as GitHub allows it: no leading dot or dash, no `..`, no path tricks. */
export const RepoNameSchema = z
  .string()
  .max(140)
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/, 'must look like owner/repo')
  .refine((v) => !v.includes('..') && !v.endsWith('.git') && !v.endsWith('.'), 'must look like owner/repo')
  .meta({ id: 'RepoName', example: 'acme/web' });

/**
 * A branch name under git's ref rules (git check-ref-format --branch), stricter where a shell or a
 * git option could be fooled: no leading `-`, no whitespace, control, bidi or other format characters
 * (Unicode Cc, Cf, Z), no `..`, `@{`,
 * `~ ^ : ? * [ \`, no `.lock` suffix, no leading/trailing `/` or `.`.
 */
export const BranchNameSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((v) => isValidBranchName(v), 'not a valid git branch name')
  .meta({ id: 'BranchName', example: 'feature/login' });

export function isValidBranchName(v: string): boolean {
  if (v.startsWith('-') || v.startsWith('/') || v.endsWith('/') || v.endsWith('.') || v === '@') return false;
  if (v.includes('..') || v.includes('@{') || v.includes('//') || v.endsWith('.lock')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(v)) return false;
  // Unicode controls, formats (bidi overrides and isolates, zero-width characters), separators and
  // spaces: legal for git, but they make a name read differently from what it is.
  if (/[\p{Cc}\p{Cf}\p{Z}]/u.test(v)) return false;
  // Legal for git, but refused so no branch name can ever mean something to a shell.
  if (/[$`;|&<>'"]/.test(v)) return false;
  return v.split('/').every((part) => part.length > 0 && !part.startsWith('.') && !part.endsWith('.lock'));
}

/** A full commit sha. */
export const CommitShaSchema = z.string().regex(/^[0-9a-f]{40}$/, 'a 40-character commit sha');

/**
 * `berth.repo.sync`: make the mirror of `repo` current (fetch through egress; clone it once when
 * absent). Concurrent requests for one repo share one fetch. The token travels only in this core
 * request; repo-cache never stores or logs it.
 */
export const RepoSyncRequestSchema = z.object({
  repo: RepoNameSchema,
  /** Resolve this branch after the fetch; absent: only fetch. */
  branch: BranchNameSchema.optional(),
  githubToken: z.string().min(1).max(500).optional(),
  /** Skip the fetch when the mirror was fetched less than this long ago. */
  maxAgeMs: z.number().int().min(0).max(86_400_000).optional(),
});
export type RepoSyncRequest = z.infer<typeof RepoSyncRequestSchema>;

export const RepoSyncReplySchema = z.object({
  repo: RepoNameSchema,
  /** Path of the bare mirror relative to the mirrors root, e.g. `acme/web.git`. */
  mirror: z.string(),
  /** The branch's commit after the fetch, when a branch was asked for (BRANCH_NOT_FOUND when it does not exist). */
  sha: CommitShaSchema.optional(),
  /** The default branch's name and commit (HEAD of the mirror). */
  defaultBranch: z.string().optional(),
  defaultSha: CommitShaSchema.optional(),
  /** false when this request joined a fetch already running or the mirror was fresh enough. */
  fetched: z.boolean(),
  durationMs: z.number().int().min(0),
});
export type RepoSyncReply = z.infer<typeof RepoSyncReplySchema>;
