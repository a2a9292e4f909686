import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runGit } from './git.js';

/** What repo-cache records beside a mirror's refs after each successful fetch. */
export interface MirrorMeta {
  /** When the fetch finished, ms since the epoch. */
  fetchedAt: number;
  /** Fencing token of the lock holder that wrote it. */
  fence: number;
  /** The last fetch needed no token, so any caller may reuse the mirror without a fetch. */
  public: boolean;
}

const META_FILE = 'berth-sync.json';
/** Only branches and tags: GitHub's refs/pull/* would make every mirror far larger. */
export const REFSPECS = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];

/** Paths of one repo's mirror under the mirrors root. */
export class MirrorPaths {
  readonly relative: string;
  readonly path: string;

  constructor(
    readonly root: string,
    readonly repo: string,
  ) {
    this.relative = `${repo}.git`;
    this.path = join(root, this.relative);
  }

  /** A fresh directory name on the same filesystem, for a clone that is renamed into place. */
  tempPath(): string {
    return join(this.root, '.tmp', `${this.repo.replace('/', '__')}-${randomBytes(6).toString('hex')}.git`);
  }

  /** Where a corrupt mirror is moved before it is deleted. */
  trashPath(): string {
    return join(this.root, '.trash', `${this.repo.replace('/', '__')}-${Date.now()}-${randomBytes(4).toString('hex')}.git`);
  }
}

export async function readMeta(mirror: string): Promise<MirrorMeta | undefined> {
  try {
    const raw = JSON.parse(await readFile(join(mirror, META_FILE), 'utf8')) as Partial<MirrorMeta>;
    if (typeof raw.fetchedAt !== 'number' || typeof raw.fence !== 'number') return undefined;
    return { fetchedAt: raw.fetchedAt, fence: raw.fence, public: raw.public === true };
  } catch {
    return undefined;
  }
}

/** Written to a temp file and renamed, so a reader never sees half of it. */
export async function writeMeta(mirror: string, meta: MirrorMeta): Promise<void> {
  const tmp = join(mirror, `${META_FILE}.${randomBytes(4).toString('hex')}`);
  await writeFile(tmp, JSON.stringify(meta), { mode: 0o644 });
  await rename(tmp, join(mirror, META_FILE));
}

/** A mirror that git recognises as a bare repository; anything else is treated as corrupt. */
export async function isHealthy(mirror: string): Promise<boolean> {
  if (!existsSync(mirror)) return false;
  const r = await runGit(['rev-parse', '--is-bare-repository'], { gitDir: mirror });
  if (r.code !== 0 || r.stdout.trim() !== 'true') return false;
  const head = await runGit(['symbolic-ref', '-q', 'HEAD'], { gitDir: mirror });
  return head.code === 0;
}

/** Moves `path` aside (one rename) and deletes it in the background. */
export async function moveAside(path: string, trash: string): Promise<void> {
  mkdirSync(dirname(trash), { recursive: true, mode: 0o755 });
  await rename(path, trash);
  void rm(trash, { recursive: true, force: true }).catch(() => undefined);
}

/** The commit of `refs/heads/<branch>`, or undefined when there is no such branch. */
export async function branchSha(mirror: string, branch: string): Promise<string | undefined> {
  const r = await runGit(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], { gitDir: mirror });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** HEAD's branch name and commit (the upstream default branch at clone time). */
export async function defaultBranch(mirror: string): Promise<{ defaultBranch?: string; defaultSha?: string }> {
  const name = await runGit(['symbolic-ref', '--short', '-q', 'HEAD'], { gitDir: mirror });
  if (name.code !== 0) return {};
  const branch = name.stdout.trim();
  const sha = await branchSha(mirror, branch);
  return sha ? { defaultBranch: branch, defaultSha: sha } : { defaultBranch: branch };
}

/** Makes sure `dir` exists and is world-readable (workspaces read mirrors as another uid). */
export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
}

/**
 * Deletes what crashed processes left in `.tmp` (half clones) and `.trash`, when older than
 * `olderThanMs` (so a clone another process is running right now is left alone). Returns the count.
 */
export async function sweepLeftovers(root: string, olderThanMs: number): Promise<number> {
  let removed = 0;
  for (const sub of ['.tmp', '.trash']) {
    const dir = join(root, sub);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info || Date.now() - info.mtimeMs < olderThanMs) continue;
      await rm(path, { recursive: true, force: true });
      removed += 1;
    }
  }
  return removed;
}
