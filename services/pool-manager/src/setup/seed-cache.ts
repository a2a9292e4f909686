import { WORKLOAD_LABELS } from '@berth/contracts';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from '@berth/service-kit';
import type { SetupDeps, SetupRun } from './setup-context.js';
import { seedVolumeName, taskResult } from './setup-commands.js';

const SEED_SAVE_SCRIPT = readFileSync(new URL('./tasks/seed-save.cjs', import.meta.url), 'utf8');
const LOCK_MS = 10 * 60_000;

/**
 * After a successful install, copies the workspace's node_modules into the repo's seed volume (one
 * writer per repo: a Redis lock). Copies both ways, never a shared writable mount: a workspace never
 * sees the seed, and what it does to its own node_modules later reaches no other workspace.
 */
export async function saveSeed(d: SetupDeps, redis: Redis, run: SetupRun, key: string): Promise<boolean> {
  const volume = seedVolumeName(d.config.BERTH_HOST_ID, run.owner, run.body.repo);
  const lock = `berth:seed-lock:${volume}`;
  const token = randomUUID();
  if ((await redis.set(lock, token, 'PX', LOCK_MS, 'NX')) !== 'OK') return false;
  try {
    const result = await d.driver.runTask({
      image: d.config.SETUP_TASK_IMAGE,
      argv: ['node', '-e', SEED_SAVE_SCRIPT, JSON.stringify({ key })],
      labels: { [WORKLOAD_LABELS.task]: 'seed-save', [WORKLOAD_LABELS.host]: d.config.BERTH_HOST_ID, [WORKLOAD_LABELS.id]: run.id },
      mounts: [
        { type: 'volume', source: run.volume, target: '/src', readOnly: true },
        // Mounted where the image has a directory owned by uid 1000: a new volume takes that owner.
        { type: 'volume', source: volume, target: '/workspace', readOnly: false },
      ],
      timeoutMs: d.config.SETUP_INSTALL_TIMEOUT_MS,
      maxOutputBytes: 16 * 1024,
    });
    const saved = result.exitCode === 0 && taskResult<{ saved: boolean }>(result.output)?.saved === true;
    if (!saved) d.logger.warn({ id: run.id, repo: run.body.repo, exitCode: result.exitCode, timedOut: result.timedOut }, 'node_modules seed not saved');
    return saved;
  } finally {
    // Only our own lock: compare-and-delete.
    await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, lock, token);
  }
}
