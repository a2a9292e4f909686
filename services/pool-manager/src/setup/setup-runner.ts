import { BerthError, BUILDS, type ImageBuildRequest, type SetupPhase } from '@berth/contracts';
import { inSpan, type Redis } from '@berth/service-kit';
import { jetstream } from '@nats-io/jetstream';
import type { ExecProcess } from '../driver/exec-process.js';
import { clonePhase } from './clone-phase.js';
import { installPhase } from './install-phase.js';
import { logTail } from './log-tail.js';
import { PhaseClock, PhaseFailure, type SetupErrorCode } from './phase-failure.js';
import { saveSeed } from './seed-cache.js';
import type { SetupDeps, SetupRun } from './setup-context.js';
import { defaultInstallCommand, defaultStartCommand } from './setup-commands.js';
import type { SetupTracker } from './setup-tracker.js';
import { startPhase } from './start-phase.js';
import { killSetupProcesses } from './workspace-procs.js';
import { startFromMainImage } from './main-image.js';

const PHASE_ERROR: Record<string, SetupErrorCode> = { queued: 'CLONE_FAILED', cloning: 'CLONE_FAILED', installing: 'INSTALL_FAILED', starting: 'START_FAILED' };

/** Runs the phases of one setup to ready or failed; never throws. */
export class SetupRunner {
  /** Dev servers started by a setup, by workspace id (their exec stays attached while they run). */
  private readonly servers = new Map<string, ExecProcess>();
  /** Seed saves still copying. */
  private readonly background = new Set<Promise<unknown>>();

  constructor(
    private readonly d: SetupDeps,
    private readonly redis: Redis,
  ) {}

  /** `resetup`: the workspace had a setup before; what it left running (its dev server) goes first. */
  async run(run: SetupRun, tracker: SetupTracker, resetup: boolean): Promise<void> {
    const { config } = this.d;
    const release = this.d.activity?.hold(run.id);
    try {
      if (resetup) {
        this.servers.delete(run.id);
        await killSetupProcesses(this.d, run);
      }
      // Each phase's first line is stored before its status: a caller following the logs sees it in order.
      const enter = async (phase: SetupPhase, line: string) => {
        await run.output?.phase(phase, line);
        await tracker.to(phase);
      };
      await enter('cloning', `cloning ${run.body.repo}@${run.body.branch}`);
      const clock = new PhaseClock('cloning', config.SETUP_CLONE_TIMEOUT_MS);
      // A repo pool's workspace already holds the main image's checkout; otherwise hasMainImage recreates from it.
      const fromImage = !run.repoPool && run.body.hasMainImage ? await startFromMainImage(this.d, run) : false;
      const installKey = run.body.installCommand ?? '';
      const checkout = await inSpan('setup cloning', {}, () =>
        clonePhase(this.d, run, clock, { mode: run.repoPool || fromImage ? 'switch' : 'clone', installKey }),
      );
      const source = run.repoPool ? 'repo-pool' : fromImage ? 'main-image' : 'clone';
      tracker.note({ sha: checkout.sha, source });
      run.output?.note(`checked out ${checkout.sha} (${source})`);

      const install = run.body.installCommand ?? defaultInstallCommand(checkout.lockfile);
      if (install && checkout.seeded) run.output?.note('node_modules matches the lockfile: no install');
      if (install && !checkout.seeded) {
        await enter('installing', `installing: ${install}`);
        await inSpan('setup installing', {}, () => installPhase(this.d, run, new PhaseClock('installing', config.SETUP_INSTALL_TIMEOUT_MS), install));
        if (config.NODE_MODULES_SEED && checkout.lockHash && !run.nodeModulesCache) {
          // In the background: the next setup of this lockfile profits, this one does not wait.
          const key = checkout.lockHash;
          const saving = saveSeed(this.d, this.redis, run, key).catch((err: unknown) => this.d.logger.warn({ err, id: run.id }, 'node_modules seed not saved'));
          this.background.add(saving);
          void saving.finally(() => this.background.delete(saving));
        }
      }

      const start = run.body.startCommand ?? defaultStartCommand(checkout.devScript);
      if (start) {
        await enter('starting', `starting: ${start} (PORT=${run.port})`);
        const server = await inSpan('setup starting', {}, () => startPhase(this.d, run, new PhaseClock('starting', config.SETUP_START_TIMEOUT_MS), start));
        this.servers.set(run.id, server);
        void server.exitCode().finally(() => {
          if (this.servers.get(run.id) === server) this.servers.delete(run.id);
        });
      }
      await enter('ready', start ? `ready: port ${run.port} answers` : 'ready');
      if (run.body.buildMainImage) await this.requestImageBuild({ id: run.id, repo: run.body.repo, sha: checkout.sha, hostId: config.BERTH_HOST_ID });
    } catch (err) {
      await this.fail(run, tracker, err);
    } finally {
      release?.();
      // The idle clock starts when the setup ends, not when its last phase began.
      await this.d.activity?.touch(run.id).catch(() => undefined);
    }
  }

  /** Waits (at most `ms`) for background seed saves, so shutdown leaves no task container behind. */
  async drain(ms: number): Promise<void> {
    await Promise.race([Promise.allSettled([...this.background]), new Promise((r) => setTimeout(r, ms).unref())]);
  }

  private async fail(run: SetupRun, tracker: SetupTracker, err: unknown): Promise<void> {
    const failure = err instanceof PhaseFailure ? err : asFailure(err, PHASE_ERROR[tracker.phase] ?? 'START_FAILED', run.secrets);
    if (!(err instanceof PhaseFailure) && !(err instanceof BerthError))
      this.d.logger.error({ err, id: run.id, phase: tracker.phase }, 'setup failed unexpectedly');
    // Nothing of a failed setup keeps running.
    await killSetupProcesses(this.d, run).catch(() => undefined);
    await run.output?.phase('failed', `failed: ${failure.code}${failure.reason ? ` (${failure.reason})` : ''}: ${failure.message}`);
    try {
      await tracker.to('failed', {
        error: { code: failure.code, message: failure.message, ...(failure.reason && { reason: failure.reason }) },
        ...(failure.logTail && { logTail: failure.logTail }),
      });
    } catch (saveErr) {
      this.d.logger.error({ err: saveErr, id: run.id }, 'setup failure not recorded; a restart marks it interrupted');
    }
  }

  private async requestImageBuild(req: ImageBuildRequest): Promise<void> {
    try {
      const data = new TextEncoder().encode(JSON.stringify(BUILDS.schema.parse(req)));
      await jetstream(this.d.nc).publish(BUILDS.subject(req.hostId), data, { msgID: BUILDS.msgId(req) });
    } catch (err) {
      this.d.logger.warn({ err, id: req.id, repo: req.repo }, 'main image build not requested');
    }
  }
}

function asFailure(err: unknown, code: SetupErrorCode, secrets: string[]): PhaseFailure {
  const message = err instanceof BerthError ? `${err.code}: ${err.message}` : 'internal error';
  return new PhaseFailure(code, logTail(message, secrets));
}
