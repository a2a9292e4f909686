import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { BerthError, CloneFailureReasonSchema, type RepoSyncReply, SEED_LABELS, WORKLOAD_LABELS } from '@berth/contracts';
import { request } from '@berth/service-kit';
import type { TaskSpec } from '../driver/workload-driver.js';
import { logTail } from './log-tail.js';
import { PhaseFailure, type PhaseClock } from './phase-failure.js';
import type { SetupDeps, SetupRun } from './setup-context.js';
import { seedVolumeName, taskResult } from './setup-commands.js';

const CHECKOUT_SCRIPT = readFileSync(new URL('./tasks/checkout.cjs', import.meta.url), 'utf8');

export interface Checkout {
  sha: string;
  lockfile: string | null;
  lockHash: string | null;
  devScript: boolean;
  /** node_modules came from the repo's seed: no install needed. */
  seeded: boolean;
}

/** Where the mirror is on the host; a reply that points outside MIRRORS_HOST_DIR is refused. */
export function mirrorHostPath(root: string, mirror: string): string {
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(mirror) || mirror.split('/').some((p) => p === '..' || p === '.')) {
    throw new PhaseFailure('CLONE_FAILED', 'repo-cache answered with an unusable mirror path');
  }
  return posix.join(root, mirror);
}

/**
 * cloning: repo-cache brings the mirror up to date (it alone sees the token), then a task container
 * without network clones from the read-only mirror into the workspace volume.
 */
export async function clonePhase(d: SetupDeps, run: SetupRun, clock: PhaseClock, opts: { mode: 'clone' | 'switch'; installKey: string }): Promise<Checkout> {
  const { repo, branch, githubToken } = run.body;
  let sync: RepoSyncReply;
  try {
    sync = await request(d.nc, 'repoSync', { repo, branch, ...(githubToken && { githubToken }) }, { timeoutMs: Math.max(1, clock.left()) });
  } catch (err) {
    if (err instanceof BerthError && err.code === 'TIMEOUT' && clock.left() === 0) throw clock.timeout();
    const e = err instanceof BerthError ? err : new BerthError('INTERNAL', 'repository sync failed');
    const reason = CloneFailureReasonSchema.safeParse(e.code);
    throw new PhaseFailure('CLONE_FAILED', logTail(`${e.code}: ${e.message}`, run.secrets), undefined, reason.success ? reason.data : undefined);
  }
  await d.repos?.note(repo);
  const seed = d.config.NODE_MODULES_SEED && !run.nodeModulesCache ? seedVolumeName(d.config.BERTH_HOST_ID, run.owner, repo) : undefined;
  if (seed)
    await d.driver.ensureVolume(seed, { [WORKLOAD_LABELS.managed]: 'true', [SEED_LABELS.seed]: 'node_modules', [SEED_LABELS.host]: d.config.BERTH_HOST_ID });
  const spec: TaskSpec = {
    image: d.config.SETUP_TASK_IMAGE,
    argv: [
      'node',
      '-e',
      CHECKOUT_SCRIPT,
      JSON.stringify({ repo, branch, mode: opts.mode, installKey: opts.installKey, seed: !!seed, keepNodeModules: !!run.nodeModulesCache }),
    ],
    labels: { [WORKLOAD_LABELS.task]: 'checkout', [WORKLOAD_LABELS.host]: d.config.BERTH_HOST_ID, [WORKLOAD_LABELS.id]: run.id },
    mounts: [
      { type: 'bind', source: mirrorHostPath(d.config.MIRRORS_HOST_DIR, sync.mirror), target: '/mirror', readOnly: true },
      { type: 'volume', source: run.volume, target: '/workspace', readOnly: false },
      ...(seed ? [{ type: 'volume' as const, source: seed, target: '/seed', readOnly: true }] : []),
    ],
    timeoutMs: Math.max(1, clock.left()),
    maxOutputBytes: 64 * 1024,
  };
  const result = await d.driver.runTask(spec);
  // The task's own output (git's), known once it ended; its result line is ours, not the caller's.
  run.output?.text(
    result.output
      .split('\n')
      .filter((l) => !l.startsWith('BERTH_RESULT '))
      .join('\n'),
  );
  if (result.timedOut) throw clock.timeout(logTail(result.output, run.secrets));
  const checkout = result.exitCode === 0 ? taskResult<Checkout>(result.output) : undefined;
  if (!checkout) throw new PhaseFailure('CLONE_FAILED', `git checkout of ${repo}@${branch} failed`, logTail(result.output, run.secrets));
  return checkout;
}
