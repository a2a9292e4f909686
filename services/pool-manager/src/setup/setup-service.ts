import { BerthError, type SetupStartRequest, type SetupStatus } from '@berth/contracts';
import { inSpan, request, type Redis } from '@berth/service-kit';
import { workspaceVolumeName } from '../driver/workload-driver.js';
import { runsRepoPoolImage } from '../pool-image.js';
import { secretsOf, type SetupDeps, type SetupRun } from './setup-context.js';
import { ownedBy, type SetupEvents } from './setup-events.js';
import { SetupOutput, natsSetupLineSender } from './setup-output.js';
import { SetupRunner } from './setup-runner.js';
import type { SetupStore } from './setup-store.js';
import { SetupTracker } from './setup-tracker.js';
import { killSetupProcesses } from './workspace-procs.js';

/**
 * `berth.setup.start` and `berth.setup.get`. A setup is accepted (status queued) once the callback
 * URL, if any, is registered with egress; the phases then run in the background. A second setup
 * while one runs is refused (SETUP_IN_PROGRESS); after ready or failed a new setup is allowed and
 * replaces the checkout (the previous dev server is stopped first).
 */
export class SetupService {
  private readonly runner: SetupRunner;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly d: SetupDeps,
    private readonly store: SetupStore,
    private readonly events: SetupEvents,
    redis: Redis,
    private readonly onPhase?: (phase: string, ms: number, outcome: string) => void,
  ) {
    this.runner = new SetupRunner(d, redis);
  }

  async start(req: SetupStartRequest): Promise<SetupStatus> {
    const view = await this.d.access.get(req.id, req.owner);
    const current = await this.store.get(req.id);
    if (current && !isFinished(current.status)) throw inProgress(current.status);
    const { body } = req;
    if (body.callbackUrl && body.callbackSecret) {
      await request(this.d.nc, 'callbackRegister', { id: req.id, url: body.callbackUrl, secret: body.callbackSecret });
    }
    const now = new Date().toISOString();
    const begun = await this.store.begin(req.owner, {
      id: req.id,
      phase: 'queued',
      repo: body.repo,
      branch: body.branch,
      at: now,
      startedAt: now,
      durations: {},
    });
    if (!begun.started) throw inProgress(begun.status);
    await this.events.publish(begun.status, req.owner);

    // The pool's first container port (the view's keys are in numeric order, not the pool's).
    const pool = this.d.pools.has(view.pool) ? this.d.pools.resolve(view.pool) : undefined;
    const poolPorts = pool?.containerPorts ?? [];
    const containerPort = poolPorts.find((p) => String(p) in view.ports) ?? Object.keys(view.ports)[0];
    const secrets = secretsOf(body);
    const run: SetupRun = {
      id: req.id,
      owner: req.owner,
      body,
      secrets,
      output: new SetupOutput(req.id, secrets, natsSetupLineSender(this.d.nc), this.d.logger),
      volume: workspaceVolumeName(req.id),
      port: Number(containerPort ?? 3000),
      ...(view.volumeName && { nodeModulesCache: true }),
    };
    const resetup = begun.status.seq > 1;
    // Untouched since the pool filled it from the repo's main image (a re-setup changed the checkout).
    if (!resetup && !view.volumeName && runsRepoPoolImage(pool, view.image, body.repo)) run.repoPool = true;
    const tracker = new SetupTracker(begun.status, this.store, ownedBy(this.events, req.owner), this.onPhase);
    // One span for the whole setup (it outlives the request that started it), its phases inside.
    const task = inSpan('setup', { attributes: { 'berth.workspace.id': req.id, 'berth.setup.repo': body.repo } }, () => this.runner.run(run, tracker, resetup));
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
    return begun.status;
  }

  async get(id: string, owner: string): Promise<SetupStatus> {
    // Someone else's workspace, or a deleted one, is indistinguishable from a missing one.
    await this.d.access.get(id, owner);
    const found = await this.store.get(id);
    if (!found || found.owner !== owner) throw new BerthError('SETUP_NOT_FOUND', `no setup for container ${id}`);
    return found.status;
  }

  /**
   * At startup, before serving: setups this host left unfinished (pool-manager died) end as
   * failed SETUP_INTERRUPTED, with their task containers and workspace processes gone.
   */
  async recover(): Promise<number> {
    await this.d.driver.removeTasks(this.d.config.BERTH_HOST_ID);
    const unfinished = await this.store.unfinished();
    for (const { status, owner } of unfinished) {
      await killSetupProcesses(this.d, { id: status.id, owner }).catch(() => undefined);
      const tracker = new SetupTracker(status, this.store, ownedBy(this.events, owner));
      await tracker.to('failed', { error: { code: 'SETUP_INTERRUPTED', message: `pool-manager restarted during ${status.phase}; start the setup again` } });
    }
    if (unfinished.length) this.d.logger.warn({ count: unfinished.length }, 'interrupted setups marked failed');
    return unfinished.length;
  }

  /**
   * At shutdown: background cache copies get a moment to finish. Running setups are not waited for
   * (an install can take minutes); the next start marks them SETUP_INTERRUPTED.
   */
  async close(): Promise<void> {
    await this.runner.drain(10_000);
  }
}

const isFinished = (s: SetupStatus) => s.phase === 'ready' || s.phase === 'failed';
const inProgress = (s: SetupStatus) => new BerthError('SETUP_IN_PROGRESS', `a setup of container ${s.id} is running (phase ${s.phase})`);
