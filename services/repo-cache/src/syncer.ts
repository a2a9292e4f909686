import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BerthError, type RepoSyncReply, type RepoSyncRequest } from '@berth/contracts';
import type { Logger } from '@berth/service-kit';
import { branchSha, defaultBranch, ensureDir, isHealthy, MirrorPaths, moveAside, readMeta, writeMeta, type MirrorMeta } from './mirror.js';
import type { HeldLock, RepoLocks } from './repo-lock.js';
import { cloneBare, fetchInto, UpstreamFailure, verifyAccess, type Upstream } from './upstream.js';

export interface SyncMetrics {
  fetched(kind: 'clone' | 'fetch', result: string, seconds: number): void;
  /** A request answered without a fetch of its own. */
  shared(reason: 'in-flight' | 'fresh' | 'other-process'): void;
}

export interface SyncerDeps {
  root: string;
  upstream: Upstream;
  locks: RepoLocks;
  logger: Logger;
  metrics: SyncMetrics;
}

/**
 * Keeps the mirrors: one fetch at a time per repo across processes (Redis lock), one shared
 * promise per repo and credential within this process.
 */
export class RepoSyncer {
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(private readonly deps: SyncerDeps) {}

  async sync(req: RepoSyncRequest): Promise<RepoSyncReply> {
    const started = Date.now();
    // Requests share a fetch only with requests holding the same credential (kept in memory, hashed).
    const key = `${req.repo}\0${req.githubToken ? createHash('sha256').update(req.githubToken).digest('hex') : ''}`;
    let running = this.inFlight.get(key);
    const joined = running !== undefined;
    if (running) {
      this.deps.metrics.shared('in-flight');
    } else {
      running = this.syncOnce(req, started);
      this.inFlight.set(key, running);
      void running.finally(() => this.inFlight.delete(key)).catch(() => undefined);
    }
    const fetched = (await running) && !joined;
    const paths = new MirrorPaths(this.deps.root, req.repo);
    let sha: string | undefined;
    if (req.branch !== undefined) {
      sha = await branchSha(paths.path, req.branch);
      if (!sha) throw new BerthError('BRANCH_NOT_FOUND', `branch ${JSON.stringify(req.branch)} does not exist in ${req.repo}`);
    }
    return { repo: req.repo, mirror: paths.relative, ...(sha ? { sha } : {}), ...(await defaultBranch(paths.path)), fetched, durationMs: Date.now() - started };
  }

  /** Resolves true when this call fetched, false when it reused a fresh enough mirror. */
  private async syncOnce(req: RepoSyncRequest, arrival: number): Promise<boolean> {
    const paths = new MirrorPaths(this.deps.root, req.repo);
    if (req.maxAgeMs !== undefined) {
      const meta = await readMeta(paths.path);
      if (meta && Date.now() - meta.fetchedAt <= req.maxAgeMs && (await this.mayReuse(meta, req))) {
        this.deps.metrics.shared('fresh');
        return false;
      }
    }
    const lock = await this.deps.locks.acquire(req.repo);
    try {
      const meta = await readMeta(paths.path);
      // Another process fetched while this request waited for the lock.
      if (meta && meta.fetchedAt >= arrival && (await this.mayReuse(meta, req))) {
        this.deps.metrics.shared('other-process');
        return false;
      }
      if (meta) await lock.raiseFenceAbove(meta.fence);
      await this.update(paths, req.githubToken, lock);
      return true;
    } finally {
      await lock.release();
    }
  }

  /** A public mirror is anyone's; a private one only after the caller's token proves access upstream. */
  private async mayReuse(meta: MirrorMeta, req: RepoSyncRequest): Promise<boolean> {
    if (meta.public) return true;
    try {
      await verifyAccess(this.deps.upstream, req.repo, req.githubToken);
      return true;
    } catch (err) {
      if (err instanceof UpstreamFailure) throw err.error;
      throw err;
    }
  }

  private async update(paths: MirrorPaths, token: string | undefined, lock: HeldLock): Promise<void> {
    const { logger, metrics, upstream } = this.deps;
    const t0 = performance.now();
    let kind: 'clone' | 'fetch' = (await isHealthy(paths.path)) ? 'fetch' : 'clone';
    try {
      if (kind === 'fetch') {
        try {
          await this.guard(lock, paths);
          await fetchInto(upstream, paths.repo, paths.path, token, lock.signal);
        } catch (err) {
          if (!(err instanceof UpstreamFailure && err.kind === 'local')) throw err;
          logger.warn({ repo: paths.repo, git: err.stderr.slice(-500) }, 'fetch into the mirror failed locally: cloning it again');
          kind = 'clone';
        }
      }
      if (kind === 'clone') await this.cloneAndSwap(paths, token, lock);
      await this.guard(lock, paths);
      await writeMeta(paths.path, { fetchedAt: Date.now(), fence: lock.fence, public: token === undefined });
      metrics.fetched(kind, 'ok', (performance.now() - t0) / 1000);
      logger.info({ repo: paths.repo, kind, ms: Math.round(performance.now() - t0) }, 'mirror updated');
    } catch (err) {
      metrics.fetched(kind, err instanceof UpstreamFailure ? err.kind : 'error', (performance.now() - t0) / 1000);
      if (!(err instanceof UpstreamFailure)) throw err;
      logger.warn({ repo: paths.repo, kind, code: err.error.code, git: err.stderr.slice(-500) }, 'upstream fetch failed');
      throw err.error;
    }
  }

  /** Clones into a temp dir and renames it into place; a corrupt mirror there is moved aside first. */
  private async cloneAndSwap(paths: MirrorPaths, token: string | undefined, lock: HeldLock): Promise<void> {
    const tmp = paths.tempPath();
    ensureDir(dirname(tmp));
    ensureDir(dirname(paths.path));
    try {
      await cloneBare(this.deps.upstream, paths.repo, tmp, token, lock.signal);
      await this.guard(lock, paths);
      if (existsSync(paths.path)) {
        this.deps.logger.warn({ repo: paths.repo }, 'mirror was corrupt: moved aside and cloned again');
        await moveAside(paths.path, paths.trashPath());
      }
      await rename(tmp, paths.path);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Fencing: the lock must still be ours and no later holder may have written the mirror. */
  private async guard(lock: HeldLock, paths: MirrorPaths): Promise<void> {
    const meta = await readMeta(paths.path);
    if (!(await lock.stillHeld()) || (meta && meta.fence > lock.fence)) {
      throw new BerthError('UPSTREAM_UNAVAILABLE', `lost the lock of ${paths.repo} during the fetch`, { retryAfterSeconds: 1 });
    }
  }
}
