import { BerthError, EXEC_OUTPUT_CAP_BYTES, type WorkspaceState, type ContainerView, type CreateContainerReply, type CreateContainerRequest, type ExecRequest, type ExecResult, type Usage } from '@berth/contracts';
import { randomUUID } from 'node:crypto';
import type { Logger } from '@berth/service-kit';
import { agentSpawn } from './agent/agent-exec.js';
import type { AgentRegistry } from './agent/agent-registry.js';
import type { PoolManagerConfig } from './config.js';
import type { ExecProcess, SpawnOptions } from './driver/exec-process.js';
import { workspaceVolumeName, type WorkloadDriver } from './driver/workload-driver.js';
import type { WorkloadNames } from './driver/workload-names.js';
import { collect, withBackstop } from './exec-run.js';
import type { EventPublisher } from './events.js';
import type { LlmKeys } from './llm/llm-keys.js';
import type { PoolFiller } from './pool-filler.js';
import type { PoolRegistry } from './pools.js';
import type { Provisioner } from './provisioner.js';
import { toView, type WorkspaceRecord } from './state/workspace-record.js';
import type { WorkspaceStore } from './state/workspace-store.js';
import { buildWorkloadSpec } from './workload-spec.js';
import type { ImagePolicy } from './image-policy.js';
import type { OwnerVolumes } from './volumes/owner-volumes.js';
import { OutputBudgets } from './output-budget.js';

const sameList = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
/** A string runs under `sh -c`; an array is argv. */
export const argvOf = (command: string | string[]) => (typeof command === 'string' ? ['sh', '-c', command] : command);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a command waits for a connection of a connected agent that is busy (it opens one per command taken). */
const AGENT_WAIT_MS = 1_000;

/** What callers do with workspaces: claim (or cold-create), read, exec, delete. */
export class Workspaces {
  private closed = false;
  private readonly budgets: OutputBudgets;
  /** Runs before any process starts in a caller's workspace: resumes a paused one or refuses (pause/pauses.ts). */
  beforeSpawn: (record: WorkspaceRecord) => Promise<void> = async () => undefined;

  constructor(
    private readonly store: WorkspaceStore,
    private readonly driver: WorkloadDriver,
    private readonly pools: PoolRegistry,
    private readonly provisioner: Provisioner,
    private readonly filler: PoolFiller,
    private readonly events: EventPublisher,
    private readonly config: PoolManagerConfig,
    private readonly logger: Logger,
    private readonly llm: LlmKeys,
    /** What a cold create may use: images, and the owner's volumes. */
    private readonly admission: { images: ImagePolicy; volumes: OwnerVolumes },
    private readonly names: WorkloadNames,
    private readonly agents?: AgentRegistry,
  ) {
    this.budgets = new OutputBudgets(config.OUTPUT_RATE_BYTES_PER_S, config.OUTPUT_BURST_BYTES);
  }

  /** Stops background follow-ups (claim markers) once the service is shutting down. */
  close(): void {
    this.closed = true;
  }

  async create(req: CreateContainerRequest): Promise<CreateContainerReply> {
    const first = await this.createOnce(req);
    // The earlier attempt of this request died before delivering anything: start afresh, once.
    const reply = first === 'gone' ? await this.createOnce(req) : first;
    if (reply === 'gone') throw new BerthError('SERVICE_UNAVAILABLE', 'the container for this request was lost; retry', { retryAfterSeconds: 1 });
    return reply;
  }

  private async createOnce(req: CreateContainerRequest): Promise<CreateContainerReply | 'gone'> {
    // Artie's `pool: true|false` means the default pool; false also asks for a cold create.
    const pool = this.pools.resolve(typeof req.pool === 'string' ? req.pool : undefined);
    const image = req.image ?? pool.image;
    const ports = req.ports ?? pool.containerPorts;
    const requestId = `${req.owner}:${req.requestId}`;
    if (req.bodyHash && !(await this.store.bindRequestBody(requestId, req.bodyHash))) {
      throw new BerthError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different body; use a new key for a new request');
    }
    const name = req.name ?? '';
    const fromPool = image === pool.image && sameList(ports, pool.containerPorts) && !req.volumeName && req.pool !== false;

    if (fromPool) {
      const claim = await this.store.claimWarm(pool.name, requestId, req.owner, name);
      if (claim.outcome === 'name_conflict') throw new BerthError('NAME_CONFLICT', `a container named ${name} already exists`);
      if (claim.outcome === 'existing') return this.awaitClaimed(claim.id, req.owner);
      this.filler.kickSoon(pool.name, this.config.REFILL_DELAY_MS);
      if (claim.outcome === 'claimed' && claim.record) {
        // Sent now, not awaited: the reply does not wait for egress. A command the caller starts
        // after the reply reaches egress well after this registration; if egress is slow or down,
        // reconcile's sync registers the key.
        void this.llm.activate(claim.record, req.llm).catch((err: unknown) => this.logger.warn({ err, id: claim.record!.id }, 'LLM key not activated; reconcile registers it'));
        this.afterClaim(claim.record);
        return { ...toView(claim.record), warm: true };
      }
    }
    // Cold: the image and the owner's volumes are settled before any container is made.
    if (image !== pool.image) await this.admission.images.check(image);
    else if (!(await this.driver.imageExists(image))) throw new BerthError('IMAGE_NOT_FOUND', `image ${image} is not on this host`);
    const ownerVolume = req.volumeName ? await this.admission.volumes.resolve(req.owner, req.volumeName) : undefined;
    const made = await this.provisioner.provision({
      pool, image, containerPorts: ports, volumeName: req.volumeName ?? '', ownerVolume, npmCache: () => this.admission.volumes.npmCache(req.owner), requestId, owner: req.owner, name, engineName: (id) => this.names.claimed(id, req.owner),
    });
    if (made.existing) return this.awaitClaimed(made.id, req.owner);
    await this.llm.activate({ id: made.id, owner: req.owner }, req.llm);
    this.events.publish(made.id, 'claimed', pool.name, undefined, { owner: req.owner });
    return { ...toView(await this.mustGet(made.id)), warm: false };
  }

  async get(id: string, owner: string): Promise<ContainerView> {
    return toView(await this.visible(id, owner));
  }

  async list(owner: string): Promise<ContainerView[]> {
    const all = await this.store.all();
    return all.filter((r) => callerVisible(r.state) && r.owner === owner).sort((a, b) => a.claimedAt - b.claimedAt).map(toView);
  }

  async remove(id: string, owner: string): Promise<void> {
    await this.visible(id, owner);
    await this.stop(id, 'deleted');
  }

  /**
   * Stops any workspace (caller delete, idle reaping, reconcile): container first, then its ports.
   * `ref` names the container when the record does not have it yet (still creating); `onlyIf`
   * makes the stop conditional on the state the caller saw.
   */
  async stop(id: string, reason: string, opts: { ref?: string; onlyIf?: WorkspaceState } = {}): Promise<void> {
    const record = await this.store.get(id);
    if (!record || !(await this.store.beginStop(id, opts.onlyIf))) return;
    // The LLM key dies first: egress refuses it even if the container's removal has to be retried.
    await this.llm.forget(id, record.state === 'claimed');
    const ref = record.ref || opts.ref;
    if (ref) await this.removeContainer(id, ref);
    await this.driver.removeVolume(workspaceVolumeName(id)).catch((err: unknown) => this.logger.warn({ err, id }, 'volume not removed; reconcile retries'));
    await this.agents?.remove(id).catch((err: unknown) => this.logger.warn({ err, id }, 'agent directory not removed; reconcile retries'));
    await this.store.release(id);
    this.events.publish(id, 'removed', record.pool, reason, { owner: record.owner });
    this.filler.kick(record.pool);
  }

  async exec(req: ExecRequest): Promise<ExecResult> {
    const proc = await this.spawn(req.id, req.owner, argvOf(req.command), { env: req.env, cwd: req.cwd, timeoutMs: req.timeoutMs, maxOutputBytes: EXEC_OUTPUT_CAP_BYTES });
    const result = await collect(proc, { timeoutMs: req.timeoutMs, maxOutputBytes: EXEC_OUTPUT_CAP_BYTES });
    if (await this.cutShortByStop(req.id, result)) throw containerDeleted(req.id);
    return result;
  }

  /**
   * Whether a command was killed under us (no exit code through the agent, 128+signal through
   * `docker exec`), not by its timeout, because its workspace is being stopped or is gone: the
   * caller then hears CONTAINER_DELETED rather than a result with `exitCode: null`.
   */
  async cutShortByStop(id: string, end: { exitCode: number | null; timedOut: boolean }): Promise<boolean> {
    const killed = end.exitCode === null || end.exitCode > 128;
    return killed && !end.timedOut && (await this.store.get(id))?.state !== 'claimed';
  }

  /**
   * Starts a process in a caller's workspace (exec, streaming exec, terminal, setup): through the
   * workspace's agent when it has one, otherwise (custom images, terminals) with `docker exec`.
   * Every process gets the workspace's LLM variables as they are now; the caller's env wins. Its
   * output is read within the workspace's output budget (OUTPUT_RATE_BYTES_PER_S, OUTPUT_BURST_BYTES).
   */
  async spawn(id: string, owner: string, argv: string[], given: SpawnOptions): Promise<ExecProcess> {
    const proc = await this.spawnUnbudgeted(id, owner, argv, given);
    const killed = new AbortController();
    return {
      ...proc,
      output: this.budgets.throttle(id, proc.output, killed.signal),
      kill: () => { killed.abort(); return proc.kill(); },
    };
  }

  private async spawnUnbudgeted(id: string, owner: string, argv: string[], given: SpawnOptions): Promise<ExecProcess> {
    const record = await this.visible(id, owner);
    await this.beforeSpawn(record);
    void this.store.touch(record.id).catch(() => undefined);
    const llmEnv = await this.llm.env(record.id);
    const opts = Object.keys(llmEnv).length > 0 ? { ...given, env: { ...llmEnv, ...given.env } } : given;
    // A connection the workspace's agent opened to the listener of this workspace: nothing to follow.
    // One that turns out stale (the agent just died) never ran the command: the next is tried.
    for (let attempt = 0; attempt < 3; attempt++) {
      const conn = await this.agents?.take(record.id, AGENT_WAIT_MS);
      if (!conn) break;
      const proc = await agentSpawn(conn, argv, opts);
      if (proc) return proc;
    }
    try {
      return await this.driver.spawn(record.ref, opts.timeoutMs === undefined ? argv : withBackstop(argv, opts.timeoutMs), opts);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 409) throw new BerthError('CONTAINER_NOT_RUNNING', `container ${id} is not running`);
      if ((err as { statusCode?: number }).statusCode === 404) throw new BerthError('CONTAINER_NOT_FOUND', `no container ${id}`);
      throw err;
    }
  }

  /** One resource-use sample of a caller's workspace. */
  async usage(id: string, owner: string): Promise<Usage> {
    const record = await this.visible(id, owner);
    try {
      const { atMs, ...u } = await this.driver.usage(record.ref);
      return { id, at: new Date(atMs).toISOString(), ...u };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) throw new BerthError('CONTAINER_NOT_FOUND', `no container ${id}`);
      throw err;
    }
  }

  /** Revoke (DELETE /api/containers/:id/llm-key) or rotate (POST) a caller's workspace's LLM key. */
  async llmKey(id: string, owner: string, action: 'revoke' | 'rotate'): Promise<{ id: string; llmKey: 'active' | 'revoked' }> {
    const record = await this.visible(id, owner);
    if (action === 'revoke') {
      await this.llm.revoke(id);
      return { id, llmKey: 'revoked' };
    }
    await this.llm.rotate(record);
    return { id, llmKey: 'active' };
  }

  /** The last bytes of a caller's workspace's own output (its dev server, with setup) since `sinceMs`. */
  async recentOutput(id: string, owner: string, sinceMs: number, maxBytes: number): Promise<string> {
    const record = await this.visible(id, owner);
    return this.driver.recentLogs(record.ref, sinceMs, maxBytes);
  }

  /**
   * Replaces a claimed workspace's container by one from `image`: same id, name, ports and labels,
   * a fresh /workspace volume (Docker fills an empty volume with the image's /workspace). Holds the
   * reconcile lock meanwhile, so the moment without a container is not taken for a lost workspace.
   * Refused for a caller-named volume (it keeps its content, the image's would not show).
   */
  async recreateFrom(id: string, owner: string, image: string): Promise<void> {
    const record = await this.visible(id, owner);
    if (record.volumeName) throw new Error('a container with a named volume cannot be recreated from an image');
    const token = randomUUID();
    for (let i = 0; !(await this.store.tryLock(token, 60_000)); i++) {
      if (i > 100) throw new BerthError('SERVICE_UNAVAILABLE', 'reconcile is running; try again', { retryAfterSeconds: 2 });
      await sleep(100);
    }
    try {
      await this.removeContainer(id, record.ref);
      await this.driver.removeVolume(workspaceVolumeName(id));
      // A fresh agent directory and listener: the old container's agent is gone with it.
      // Same workspace, same LLM key: it moves to the new directory.
      const llmKey = await this.llm.current(id);
      await this.agents?.remove(id);
      const agentDir = await this.agents?.create(id);
      await this.llm.restore(id, llmKey);
      const spec = buildWorkloadSpec({ id, name: this.names.claimed(id, record.owner), pool: this.pools.resolve(record.pool), image, ports: record.ports, volumeName: '', agentDir, owner: record.owner }, this.config);
      const ref = await this.driver.create(spec);
      await this.store.replaceContainer(id, ref, image);
    } finally {
      await this.store.unlock(token);
    }
  }

  /**
   * Docker occasionally refuses a removal under load (a rename or kill in flight). One retry; if it
   * still fails the workspace stays `stopping` and reconcile finishes the job, ports held till then.
   */
  private async removeContainer(id: string, ref: string): Promise<void> {
    try {
      await this.driver.remove(ref);
    } catch (first) {
      this.logger.warn({ err: first, id }, 'container removal failed; retrying');
      await sleep(250);
      try {
        await this.driver.remove(ref);
      } catch (err) {
        this.logger.error({ err, id }, 'container removal failed; reconcile will retry');
        throw new BerthError('SERVICE_UNAVAILABLE', 'the container could not be removed yet; it will be removed shortly', { retryAfterSeconds: 2, cause: err });
      }
    }
  }

  private afterClaim(record: WorkspaceRecord): void {
    this.events.publish(record.id, 'claimed', record.pool, undefined, { owner: record.owner });
    // The engine-side name is the durable claim marker that reconcile reads if Redis loses state.
    // Written just after the reply, with the refill, so a burst of claims is not slowed by Docker.
    setTimeout(() => {
      if (this.closed) return;
      void (async () => {
        // Deleted already: renaming would only race Docker's removal.
        if ((await this.store.get(record.id))?.state !== 'claimed') return;
        await this.driver.rename(record.ref, this.names.claimed(record.id, record.owner));
      })().catch((err: unknown) => this.logger.warn({ err, id: record.id }, 'claim marker rename failed; reconcile retries'));
    }, this.config.REFILL_DELAY_MS).unref();
  }

  /** A retried create: wait for the first attempt's container (cold creates take a moment). */
  private async awaitClaimed(id: string, owner: string): Promise<CreateContainerReply | 'gone'> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const r = await this.store.get(id);
      if (!r || r.state === 'stopping') return 'gone';
      if (r.owner !== owner) throw new BerthError('CONTAINER_NOT_FOUND', 'no such request');
      if (r.state === 'claimed') return { ...toView(r), warm: false };
      await sleep(50);
    }
    throw new BerthError('TIMEOUT', 'the earlier attempt of this request is still starting; retry', { retryAfterSeconds: 1 });
  }

  private async visible(id: string, owner: string): Promise<WorkspaceRecord> {
    const r = await this.store.get(id);
    // Someone else's workspace is indistinguishable from a missing one.
    if (!r || !callerVisible(r.state) || r.owner !== owner) throw new BerthError('CONTAINER_NOT_FOUND', `no container ${id}`);
    return r;
  }

  private async mustGet(id: string): Promise<WorkspaceRecord> {
    const r = await this.store.get(id);
    if (!r) throw new BerthError('SERVICE_UNAVAILABLE', 'container vanished while being claimed; retry', { retryAfterSeconds: 1 });
    return r;
  }
}

/** What a caller sees of their workspaces: claimed ones, running or paused. */
const callerVisible = (state: WorkspaceState) => state === 'claimed' || state === 'paused';

export const containerDeleted = (id: string) => new BerthError('CONTAINER_DELETED', `container ${id} was deleted while the command ran`);
