import { logTail } from './log-tail.js';
import { PhaseFailure, type PhaseClock } from './phase-failure.js';
import type { SetupDeps, SetupRun } from './setup-context.js';
import { runWithTail, setupEnv, spawnInWorkspace, withBackstop } from './workspace-procs.js';

/** installing: the install command in /workspace/repo, envVars as exec env; the tree dies at the timeout. */
export async function installPhase(d: SetupDeps, run: SetupRun, clock: PhaseClock, command: string): Promise<void> {
  const proc = await spawnInWorkspace(d, run, withBackstop(['sh', '-c', command], clock.left()), setupEnv(d, run, { CI: 'true' }));
  const result = await runWithTail(proc, clock.left(), undefined, run.output?.process());
  const tail = logTail(result.output, run.secrets);
  if (result.timedOut) throw clock.timeout(tail);
  if (result.exitCode !== 0) throw new PhaseFailure('INSTALL_FAILED', `install command exited with code ${result.exitCode ?? 'unknown'}`, tail);
}
