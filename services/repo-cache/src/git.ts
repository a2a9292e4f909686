import { spawn } from 'node:child_process';

export interface GitOptions {
  /**
   * The repository to act on, as GIT_DIR: git never searches parent directories for one, so a
   * broken mirror under a checkout (e.g. `.berth/mirrors`) can never make git act on that checkout.
   */
  gitDir?: string;
  cwd?: string;
  /** GitHub token: sent only as an `http.extraHeader` set through the child's environment. */
  token?: string | undefined;
  /** Forward proxy for http(s), set as `http.proxy` through the environment. */
  proxy?: string | undefined;
  timeoutMs?: number;
  /** Kills git when aborted (a lost lock). */
  signal?: AbortSignal;
}

export interface GitResult {
  code: number | null;
  stdout: string;
  /** Stderr with every form of the token removed. */
  stderr: string;
  timedOut: boolean;
}

const REDACTED = '[redacted]';

/** The header value carrying `token`, as GitHub accepts it for git over HTTPS. */
export function authHeader(token: string): string {
  return `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

/** `text` without `token`, its Basic credential or their base64 (in case git ever echoes a header). */
export function scrub(text: string, token: string | undefined): string {
  if (!token) return text;
  const forms = [token, Buffer.from(`x-access-token:${token}`).toString('base64'), Buffer.from(token).toString('base64')];
  let out = text;
  for (const f of forms) out = out.split(f).join(REDACTED);
  return out;
}

/**
 * The child's environment: no user or system config, no credential helper, no prompt, only
 * http(s) transports; token and proxy as `GIT_CONFIG_*` pairs, so neither appears in argv, a
 * URL or a config file.
 */
export function gitEnv(opts: Pick<GitOptions, 'token' | 'proxy' | 'gitDir'>): NodeJS.ProcessEnv {
  const pairs: [string, string][] = [['credential.helper', '']];
  if (opts.proxy) pairs.push(['http.proxy', opts.proxy]);
  if (opts.token) pairs.push(['http.extraHeader', authHeader(opts.token)]);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/nonexistent',
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
    GIT_ALLOW_PROTOCOL: 'http:https',
    GIT_CONFIG_COUNT: String(pairs.length),
  };
  if (opts.gitDir) env.GIT_DIR = opts.gitDir;
  pairs.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return env;
}

/** Runs git with `args` (never through a shell). Resolves whatever the exit code; stderr is scrubbed. */
export function runGit(args: string[], opts: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: opts.cwd, env: gitEnv(opts), stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-16_000);
    });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.once('error', (err) => {
      if ((err as { name?: string }).name === 'AbortError') return;
      clearTimeout(timer);
      reject(new Error(scrub(err.message, opts.token)));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (opts.signal?.aborted) return reject(opts.signal.reason as Error);
      resolve({ code, stdout, stderr: scrub(stderr, opts.token).trim(), timedOut });
    });
  });
}
