import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BerthError, isErrorBody, type RepoSyncReply, type RepoSyncRequest } from '@berth/contracts';
import { connectNats, createLogger, drainNats, request, subjectOf, type NatsConnection } from '@berth/service-kit';
import { ServiceProcess, startNatsServer, startRedisServer, type ServerProcess } from '@berth/service-kit/testing';
import { RequestError, TimeoutError } from '@nats-io/transport-node';
import { FakeGitHub } from '../../../test/support/fake-github.js';

export interface Harness {
  nats: ServerProcess & { url: string };
  redis: ServerProcess & { url: string };
  nc: NatsConnection;
  gh: FakeGitHub;
  mirrors: string;
  hostId: string;
  env: Record<string, string>;
  dispose(): Promise<void>;
}

export async function startHarness(extraEnv: Record<string, string> = {}): Promise<Harness> {
  const [nats, redis, gh] = await Promise.all([startNatsServer(), startRedisServer(), FakeGitHub.start()]);
  const hostId = `rc-${randomBytes(3).toString('hex')}`;
  // Syncs go to this host's repo-cache, as a pool-manager beside it asks.
  const nc = await connectNats({ url: nats.url, name: 'test', logger: createLogger('test', 'warn'), hostId });
  const mirrors = mkdtempSync(join(tmpdir(), 'berth-mirrors-'));
  const env = {
    NATS_URL: nats.url,
    REDIS_URL: redis.url,
    MIRRORS_DIR: mirrors,
    GITHUB_URL: gh.url,
    BERTH_HOST_ID: hostId,
    LOG_LEVEL: 'debug',
    REPO_CACHE_HEALTH_PORT: '0',
    REPO_LOCK_TTL_MS: '1500',
    ...extraEnv,
  };
  return {
    nats,
    redis,
    nc,
    gh,
    mirrors,
    hostId,
    env,
    async dispose() {
      await drainNats(nc).catch(() => undefined);
      await Promise.all([nats.dispose(), redis.dispose(), gh.stop()]);
    },
  };
}

/** A repo-cache process that answers berth.repo.sync (resolves once it does). */
export async function startRepoCache(h: Harness, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const p = new ServiceProcess('repo-cache', { ...h.env, ...env }, { keepAllOutput: true });
  p.start();
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await rawSync(h.nc, { repo: 'ready/probe' }, 2_000).catch((e: unknown) => e);
    if (!(r instanceof BerthError && (r.code === 'SERVICE_UNAVAILABLE' || r.code === 'TIMEOUT'))) return p;
    if (Date.now() > deadline || !p.running) throw new Error(`repo-cache did not start: ${p.output}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

export function sync(nc: NatsConnection, req: RepoSyncRequest, timeoutMs = 30_000): Promise<RepoSyncReply> {
  return request(nc, 'repoSync', req, { timeoutMs });
}

/** Sends a body as is (no client-side validation), so the service's own checks are exercised. */
export async function rawSync(nc: NatsConnection, body: unknown, timeoutMs = 10_000): Promise<unknown> {
  try {
    const msg = await nc.request(subjectOf(nc, 'repoSync', body, undefined), new TextEncoder().encode(JSON.stringify(body)), { timeout: timeoutMs });
    const reply: unknown = msg.json();
    return isErrorBody(reply) ? BerthError.fromBody(reply) : reply;
  } catch (err) {
    if (err instanceof RequestError && err.isNoResponders()) return new BerthError('SERVICE_UNAVAILABLE', 'no responders');
    if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError)) return new BerthError('TIMEOUT', 'timeout');
    throw err;
  }
}

/** The command line of every process on the machine (arguments joined by spaces). */
export function processCmdlines(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`).toString('utf8').split('\0').join(' '));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Every regular file under `dir` with its content, for secret scans. */
export function filesUnder(dir: string): [string, string][] {
  const out: [string, string][] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push([path, readFileSync(path).toString('latin1')]);
  }
  return out;
}

/** Files or directories under `dir` that other users cannot read. */
export function unreadable(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    const mode = statSync(path).mode;
    if ((mode & 0o004) === 0 || (entry.isDirectory() && (mode & 0o001) === 0)) out.push(path);
  }
  return out;
}

export { waitFor } from '@berth/service-kit/testing';
