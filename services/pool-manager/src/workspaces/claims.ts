import { BerthError, type CreateContainerReply, type CreateContainerRequest } from '@berth/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import { templateImageTag, type Logger } from '@berth/service-kit';
import type { PoolManagerConfig } from '../config.js';
import type { WorkloadDriver } from '../driver/workload-driver.js';
import type { WorkloadNames } from '../driver/workload-names.js';
import type { EventPublisher } from '../events.js';
import type { LlmKeys } from '../llm/llm-keys.js';
import type { PoolFiller } from '../pool-filler.js';
import type { PoolRegistry } from '../pools.js';
import type { Provisioner } from '../provisioner.js';
import { toView, type WorkspaceRecord } from '../state/workspace-record.js';
import type { WorkspaceStore } from '../state/workspace-store.js';
import type { ImagePolicy } from '../image-policy.js';
import type { OwnerVolumes } from '../volumes/owner-volumes.js';
import { withAskedLimits } from '../limits/asked-limits.js';

const sameList = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export interface ClaimDeps {
  store: WorkspaceStore;
  driver: WorkloadDriver;
  pools: PoolRegistry;
  provisioner: Provisioner;
  filler: PoolFiller;
  events: EventPublisher;
  config: Pick<PoolManagerConfig, 'REFILL_DELAY_MS'>;
  logger: Logger;
  llm: LlmKeys;
  /** What a cold create may use: images, and the owner's volumes. */
  admission: { images: ImagePolicy; volumes: OwnerVolumes };
  names: WorkloadNames;
}

/** Hands a caller a workspace: a warm one from its pool, or a cold create; a retried request gets the same one. */
export class Claims {
  private closed = false;
  private readonly store: WorkspaceStore;
  private readonly driver: WorkloadDriver;
  private readonly pools: PoolRegistry;
  private readonly provisioner: Provisioner;
  private readonly filler: PoolFiller;
  private readonly events: EventPublisher;
  private readonly config: ClaimDeps['config'];
  private readonly logger: Logger;
  private readonly llm: LlmKeys;
  private readonly admission: ClaimDeps['admission'];
  private readonly names: WorkloadNames;

  constructor(d: ClaimDeps) {
    ({
      store: this.store,
      driver: this.driver,
      pools: this.pools,
      provisioner: this.provisioner,
      filler: this.filler,
      events: this.events,
      config: this.config,
      logger: this.logger,
      llm: this.llm,
      admission: this.admission,
      names: this.names,
    } = d);
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
    const { pool, warmFits } = withAskedLimits(this.pools.forCreate(typeof req.pool === 'string' ? req.pool : undefined, req.owner, req.template), req);
    if (req.template && req.image) throw new BerthError('VALIDATION_FAILED', 'name an image or a template, not both');
    const image = req.template ? templateImageTag(req.owner, req.template) : (req.image ?? pool.image);
    const ports = req.ports ?? pool.containerPorts;
    const requestId = `${req.owner}:${req.requestId}`;
    const name = req.name ?? '';
    const fromPool = image === pool.image && sameList(ports, pool.containerPorts) && !req.volumeName && req.pool !== false && warmFits;
    // A warm claim binds the body hash in its own round trip.
    if (!fromPool && req.bodyHash && !(await this.store.bindRequestBody(requestId, req.bodyHash))) throw keyReused();

    if (fromPool) {
      const claim = await this.store.claimWarm(pool.name, requestId, req.owner, name, req.bodyHash);
      if (claim.outcome === 'body_mismatch') throw keyReused();
      if (claim.outcome === 'name_conflict') throw new BerthError('NAME_CONFLICT', `a container named ${name} already exists`);
      if (claim.outcome === 'existing') return this.awaitClaimed(claim.id, req.owner);
      this.filler.kickSoon(pool.name, this.config.REFILL_DELAY_MS);
      if (claim.outcome === 'claimed' && claim.record) {
        // Sent now, not awaited: the reply does not wait for egress. A command the caller starts
        // after the reply reaches egress well after this registration; if egress is slow or down,
        // reconcile's sync registers the key.
        void this.llm
          .activate(claim.record, req.llm)
          .catch((err: unknown) => this.logger.warn({ err, id: claim.record!.id }, 'LLM key not activated; reconcile registers it'));
        this.afterClaim(claim.record);
        return { ...toView(claim.record), warm: true };
      }
    }
    // Cold: the image and the owner's volumes are settled before any container is made.
    if (req.template) await this.admission.images.checkTemplate(image, req.owner, req.template);
    else if (image !== pool.image) await this.admission.images.check(image, req.owner);
    else if (!(await this.driver.imageExists(image))) throw new BerthError('IMAGE_NOT_FOUND', `image ${image} is not on this host`);
    const ownerVolume = req.volumeName ? await this.admission.volumes.resolve(req.owner, req.volumeName) : undefined;
    const made = await this.provisioner.provision({
      pool,
      image,
      containerPorts: ports,
      volumeName: req.volumeName ?? '',
      ownerVolume,
      npmCache: () => this.admission.volumes.npmCache(req.owner),
      requestId,
      owner: req.owner,
      name,
      diskMb: req.diskMb,
      engineName: (id) => this.names.claimed(id, req.owner),
    });
    if (made.existing) return this.awaitClaimed(made.id, req.owner);
    await this.llm.activate({ id: made.id, owner: req.owner }, req.llm);
    this.events.publish(made.id, 'claimed', pool.name, undefined, { owner: req.owner });
    return { ...toView(await this.mustGet(made.id)), warm: false };
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

  private async mustGet(id: string): Promise<WorkspaceRecord> {
    const r = await this.store.get(id);
    if (!r) throw new BerthError('SERVICE_UNAVAILABLE', 'container vanished while being claimed; retry', { retryAfterSeconds: 1 });
    return r;
  }
}

const keyReused = () => new BerthError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different body; use a new key for a new request');
