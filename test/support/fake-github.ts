import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretsEqual } from '@berth/service-kit';
import { readBody, runGitHttpBackend } from './git-cgi.js';
import { createBranch, generateBigRepo, git, initBare, RepoAuthor, type BigRepoOptions } from './git-fixtures.js';

/** One HTTP request the fake GitHub answered. */
export interface FakeGitHubRequest {
  method: string;
  path: string;
  /** `owner/repo`, when the path named one. */
  repo: string | undefined;
  /** `info/refs` or `git-upload-pack` (the POST that carries ls-refs or fetch). */
  endpoint: 'info/refs' | 'git-upload-pack' | 'other';
  /** Protocol v2 command of an upload-pack POST (`ls-refs`, `fetch`), or `fetch` for protocol v0/v1 bodies. */
  command: string | undefined;
  /** `want` and `have` lines of a fetch: a clone has wants and no haves; a later fetch has haves. */
  wants: number;
  haves: number;
  /** The request body came gzipped (git compresses larger upload-pack requests). */
  gzip: boolean;
  authPresent: boolean;
  /** The Basic password equals the repo's token (private) or any token the fake knows (public). */
  authValid: boolean;
  status: number;
}

interface RepoEntry {
  name: string;
  bare: string;
  author: RepoAuthor;
  token: string | undefined;
}

export interface FakeGitHubOptions {
  /**
   * Status for a private repo asked with a token that is present but wrong. GitHub answers 401
   * ("Invalid username or token") to a bad token and 404 to a valid token without access; the
   * default is 401 (plus `WWW-Authenticate`), pass 404 to act like the no-access case.
   */
  wrongTokenStatus?: 401 | 404;
}

const PATH_RE = /^\/([A-Za-z0-9][A-Za-z0-9-]*)\/([A-Za-z0-9_][A-Za-z0-9_.-]*)\.git\/(info\/refs|git-upload-pack)$/;

/**
 * A git smart-HTTP server on 127.0.0.1 acting like github.com for clones and fetches: bare repos
 * at `/<owner>/<repo>.git`, served by `git http-backend` as a CGI. Private repos need HTTP Basic
 * auth whose password is their token (any user name, e.g. `x-access-token`); without it they
 * answer 401 with `WWW-Authenticate`. Pushes are refused. Every request is recorded.
 */
export class FakeGitHub {
  readonly requests: FakeGitHubRequest[] = [];
  /** When set, every git request is answered with this status (e.g. 503 to play an outage). */
  failWith: number | undefined;
  /** Delay before answering each upload-pack POST, ms (to make concurrent requests overlap). */
  delayMs = 0;
  private readonly repos = new Map<string, RepoEntry>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'berth-fake-github-'));
  private readonly root = join(this.dir, 'repos');
  private readonly work = join(this.dir, 'work');

  private constructor(
    private readonly server: Server,
    private readonly opts: FakeGitHubOptions,
  ) {}

  static async start(opts: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    const server = createServer();
    const self = new FakeGitHub(server, opts);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      self.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  /** Base URL, e.g. `http://127.0.0.1:40123`: a repo's clone URL is `${url}/owner/repo.git`. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  cloneUrl(name: string): string {
    return `${this.url}/${name}.git`;
  }

  /** Path of a repo's bare repository on disk. */
  barePath(name: string): string {
    return this.entry(name).bare;
  }

  /** A repository `owner/repo`, empty or with the files of `fromDir` as its first commit. `token` makes it private. */
  async createRepo(name: string, opts: { fromDir?: string; token?: string; defaultBranch?: string } = {}): Promise<string | undefined> {
    if (this.repos.has(name)) throw new Error(`${name} exists`);
    const bare = join(this.root, `${name}.git`);
    const branch = opts.defaultBranch ?? 'main';
    await initBare(bare, branch);
    const author = await RepoAuthor.create(bare, join(this.work, name), branch, opts.fromDir);
    this.repos.set(name, { name, bare, author, token: opts.token });
    return opts.fromDir ? git(bare, ['rev-parse', `refs/heads/${branch}`]) : undefined;
  }

  /** Commits `files` to `branch` of `name` (branch created from the default branch when new); returns the sha. */
  commit(name: string, files: Record<string, string | Buffer>, opts: { branch?: string; message?: string } = {}): Promise<string> {
    return this.entry(name).author.commit(opts.branch ?? 'main', files, opts.message);
  }

  /** Creates `branch` at `from` (default HEAD); any legal git branch name works. */
  createBranch(name: string, branch: string, from?: string): Promise<string> {
    return createBranch(this.entry(name).bare, branch, from);
  }

  /** Fills the (new, empty) repo `name` with a large generated history; see generateBigRepo. */
  async createBigRepo(name: string, opts: BigRepoOptions & { token?: string } = {}): Promise<{ sha: string; historyBytes: number }> {
    const bare = join(this.root, `${name}.git`);
    await initBare(bare, opts.branch ?? 'main');
    const result = await generateBigRepo(bare, opts);
    const author = new RepoAuthor(bare, join(this.work, name));
    this.repos.set(name, { name, bare, author, token: opts.token });
    return result;
  }

  /** Sha of `ref` in the upstream repo. */
  revParse(name: string, ref: string): Promise<string> {
    return git(this.entry(name).bare, ['rev-parse', '--verify', `${ref}^{commit}`]);
  }

  /** Recorded requests for one repo, optionally only upload-pack `fetch` commands (one per clone or fetch that transferred objects). */
  requestsFor(name: string, onlyFetches = false): FakeGitHubRequest[] {
    return this.requests.filter((r) => r.repo === name && (!onlyFetches || r.command === 'fetch'));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private entry(name: string): RepoEntry {
    const e = this.repos.get(name);
    if (!e) throw new Error(`no repo ${name} in the fake GitHub`);
    return e;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = PATH_RE.exec(url.pathname);
    const rec: FakeGitHubRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      repo: m ? `${m[1]}/${m[2]}` : undefined,
      endpoint: m ? (m[3] as 'info/refs' | 'git-upload-pack') : 'other',
      command: undefined,
      wants: 0,
      haves: 0,
      gzip: req.headers['content-encoding'] === 'gzip',
      authPresent: false,
      authValid: false,
      status: 0,
    };
    this.requests.push(rec);
    const body = await readBody(req);
    const text = body.toString('latin1');
    rec.command = /command=([a-z-]+)/.exec(text)?.[1] ?? (/^[0-9a-f]{4}want /m.test(text) ? 'fetch' : undefined);
    rec.wants = (text.match(/[0-9a-f]{4}want [0-9a-f]{40}/g) ?? []).length;
    rec.haves = (text.match(/[0-9a-f]{4}have [0-9a-f]{40}/g) ?? []).length;
    const password = basicPassword(req.headers.authorization);
    rec.authPresent = password !== undefined;
    const entry = rec.repo ? this.repos.get(rec.repo) : undefined;
    const known = [...this.repos.values()].flatMap((r) => (r.token ? [r.token] : []));
    rec.authValid = password !== undefined && (entry?.token ? secretsEqual(password, entry.token) : known.some((t) => secretsEqual(password, t)));

    const reply = (status: number, msg: string, headers: Record<string, string> = {}) => {
      rec.status = status;
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(msg);
    };
    if (this.failWith !== undefined) return reply(this.failWith, 'unavailable\n');
    if (!m || !entry) return reply(404, 'Repository not found.\n');
    if (url.searchParams.get('service') === 'git-receive-pack') return reply(403, 'pushes are refused\n');
    if (entry.token && !rec.authValid) {
      if (rec.authPresent && this.opts.wrongTokenStatus === 404) return reply(404, 'Repository not found.\n');
      return reply(401, 'Invalid username or token.\n', { 'www-authenticate': 'Basic realm="GitHub"' });
    }
    if (rec.endpoint === 'git-upload-pack' && this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    rec.status = await runGitHttpBackend(
      this.root,
      {
        method: rec.method,
        pathInfo: url.pathname,
        query: url.search.slice(1),
        contentType: req.headers['content-type'],
        gitProtocol: header(req.headers['git-protocol']),
        body,
      },
      res,
    );
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function basicPassword(auth: string | undefined): string | undefined {
  if (!auth?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : decoded.slice(i + 1);
}

/** `git clone` arguments' environment that sends `token` the way repo-cache does (an extra header, never in the URL). */
export function tokenEnv(token: string): Record<string, string> {
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
  };
}
