import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A fixed identity and no user or system config, so fixtures build the same everywhere. */
export function gitEnv(home: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'berth fixture',
    GIT_AUTHOR_EMAIL: 'fixture@berth.invalid',
    GIT_COMMITTER_NAME: 'berth fixture',
    GIT_COMMITTER_EMAIL: 'fixture@berth.invalid',
    GIT_TERMINAL_PROMPT: '0',
  };
}

/** `git args...` in `cwd`; resolves to trimmed stdout. Arguments are never seen by a shell. */
export async function git(cwd: string, args: string[], home = cwd): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: gitEnv(home), maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** An empty bare repository whose HEAD is `refs/heads/<defaultBranch>`. */
export async function initBare(path: string, defaultBranch = 'main'): Promise<void> {
  mkdirSync(path, { recursive: true });
  await git(path, ['init', '--bare', '--quiet', `--initial-branch=${defaultBranch}`]);
}

/**
 * A working clone of a bare repository, used to author commits: files are written, committed and
 * pushed to the bare repository.
 */
export class RepoAuthor {
  constructor(
    readonly bare: string,
    readonly work: string,
  ) {}

  static async create(bare: string, work: string, defaultBranch: string, fromDir?: string): Promise<RepoAuthor> {
    mkdirSync(work, { recursive: true });
    await git(work, ['init', '--quiet', `--initial-branch=${defaultBranch}`]);
    await git(work, ['remote', 'add', 'origin', bare]);
    const author = new RepoAuthor(bare, work);
    if (fromDir) {
      cpSync(fromDir, work, { recursive: true, filter: (src) => !src.includes('/node_modules') });
      await author.commitAll(defaultBranch, 'initial commit from fixture');
    }
    return author;
  }

  /** Writes `files` (path → content) on `branch` (created from the current HEAD when new), commits, pushes; returns the sha. */
  async commit(branch: string, files: Record<string, string | Buffer>, message = 'change'): Promise<string> {
    await this.checkout(branch);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(this.work, path)), { recursive: true });
      writeFileSync(join(this.work, path), content);
    }
    return this.commitAll(branch, message);
  }

  private async checkout(branch: string): Promise<void> {
    const exists = await git(this.work, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]).then(
      () => true,
      () => false,
    );
    const hasHead = await git(this.work, ['rev-parse', '--verify', '--quiet', 'HEAD']).then(
      () => true,
      () => false,
    );
    if (!hasHead) await git(this.work, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
    else await git(this.work, exists ? ['checkout', '--quiet', branch, '--'] : ['checkout', '--quiet', '-b', branch]);
  }

  private async commitAll(branch: string, message: string): Promise<string> {
    await git(this.work, ['add', '-A']);
    await git(this.work, ['commit', '--quiet', '--allow-empty', '-m', message]);
    await git(this.work, ['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
    return git(this.work, ['rev-parse', 'HEAD']);
  }
}

/** Points `refs/heads/<branch>` of a bare repository at `from` (a branch or sha). Any legal name works. */
export async function createBranch(bare: string, branch: string, from = 'HEAD'): Promise<string> {
  const sha = await git(bare, ['rev-parse', '--verify', `${from}^{commit}`]);
  await git(bare, ['update-ref', `refs/heads/${branch}`, sha]);
  return sha;
}

export interface BigRepoOptions {
  /** Files in the tree. Default 50. */
  files?: number;
  /** Lines of each file, 64 characters of random base64 each. Default 1000 (65 kB a file). */
  fileLines?: number;
  /** Commits after the first; each rewrites `linesPerChange` random lines of one file. Default 4000. */
  commits?: number;
  /** Consecutive commits editing the same file (so fast-import stores them as deltas). Default 10. */
  runLength?: number;
  linesPerChange?: number;
  branch?: string;
}

/**
 * Fills an empty bare repository with a long history through `git fast-import`, shaped like source
 * code history: a modest working tree and thousands of small edits stored as deltas. A clone from
 * upstream must transfer the pack and rebuild and hash every version (index-pack); a clone from a
 * local mirror copies the pack. Defaults: 50 files (3.2 MB tree), 4001 commits, about 24 MB packed,
 * 260 MB of file versions.
 */
export async function generateBigRepo(bare: string, opts: BigRepoOptions = {}): Promise<{ sha: string; historyBytes: number }> {
  const files = opts.files ?? 50;
  const lines = opts.fileLines ?? 1000;
  const commits = opts.commits ?? 4000;
  const runLength = Math.max(1, opts.runLength ?? 10);
  const perChange = opts.linesPerChange ?? 3;
  const branch = opts.branch ?? 'main';
  const child = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: bare, env: gitEnv(bare), stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  let pending: string[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    const chunk = pending.join('');
    pending = [];
    pendingBytes = 0;
    if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
  };
  const write = async (s: string) => {
    pending.push(s);
    pendingBytes += s.length;
    if (pendingBytes > 1 << 20) await flush();
  };
  const line = () => randomBytes(48).toString('base64');
  const content = Array.from({ length: files }, () => Array.from({ length: lines }, line));
  let historyBytes = 0;
  let t = 1_700_000_000;
  for (let c = 0; c <= commits; c++) {
    const touched = c === 0 ? [...Array(files).keys()] : [Math.floor(c / runLength) % files];
    const msg = c === 0 ? 'initial tree' : `edit ${c}`;
    await write(`commit refs/heads/${branch}\ncommitter berth fixture <fixture@berth.invalid> ${t++} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}\n`);
    for (const f of touched) {
      const file = content[f]!;
      if (c > 0) for (let k = 0; k < perChange; k++) file[Math.floor(Math.random() * lines)] = line();
      const body = `${file.join('\n')}\n`;
      historyBytes += body.length;
      await write(`M 100644 inline src/dir${f % 10}/file${f}.txt\ndata ${body.length}\n${body}\n`);
    }
  }
  await write('done\n');
  await flush();
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`git fast-import failed (${String(code)}): ${stderr}`);
  await git(bare, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
  return { sha: await git(bare, ['rev-parse', `refs/heads/${branch}`]), historyBytes };
}
