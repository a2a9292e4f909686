import { BerthError, LlmLimitsSchema, type LlmLimits } from '@berth/contracts';
import { llmKeyHash, newBerthKey, type Logger } from '@berth/service-kit';
import type { WorkspaceRecord } from '../state/workspace-record.js';
import type { WorkspaceStore } from '../state/workspace-store.js';
import type { LlmEgress } from './egress-client.js';
import type { KeyStore } from './key-store.js';
import { llmEnv } from './llm-env.js';

/** In the claim path: egress not answering in this time never fails a claim (reconcile's sync registers later). */
const CLAIM_REGISTER_TIMEOUT_MS = 1_500;
/** Revoke and rotate by API wait a little longer: the caller is told whether egress confirmed. */
const API_TIMEOUT_MS = 3_000;
const SYNC_TIMEOUT_MS = 5_000;

type LimitsStore = Pick<WorkspaceStore, 'all' | 'setLlmLimits' | 'llmLimits'>;

/**
 * Scoped LLM keys: written when a workspace is made, registered at claim, kept only in the workspace (KeyStore), registered with egress
 * by their SHA-256, given to every command as env, revoked with the workspace. `keys` undefined:
 * LLM keys off (no egress URL), every method a no-op.
 */
export class LlmKeys {
  /** id → SHA-256 of the key written by `prepare`, until the claim registers it. */
  private readonly prepared = new Map<string, string>();

  constructor(
    private readonly keys: KeyStore | undefined,
    private readonly egress: LlmEgress,
    private readonly store: LimitsStore,
    private readonly opts: { egressUrl: string; hostId: string },
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.keys !== undefined;
  }

  /**
   * Before a workspace is handed out (warm fill, cold create): its key is written now, so a claim
   * only registers it with egress. Unregistered, the key opens nothing while the workspace waits.
   */
  async prepare(id: string): Promise<void> {
    const hash = await this.writeNewKey(id, 'LLM key not written ahead; the claim writes one');
    if (hash) this.prepared.set(id, hash);
  }

  /** A workspace that never got claimed (create failed): forget its prepared key's hash. */
  drop(id: string): void {
    this.prepared.delete(id);
  }

  /**
   * At claim: registers the workspace's key (prepared ahead, or minted now) by its hash with owner
   * and limits. Never fails the claim: egress silent → a warning, reconcile's sync registers it later.
   */
  async activate(record: Pick<WorkspaceRecord, 'id' | 'owner'>, limits?: LlmLimits): Promise<void> {
    if (!this.keys) return;
    const hash = await this.preparedHash(record.id);
    const limitsJson = limits && Object.keys(limits).length > 0 ? JSON.stringify(limits) : undefined;
    if (!hash) return;
    await Promise.all([
      limitsJson ? this.store.setLlmLimits(record.id, limitsJson) : undefined,
      this.egress
        .register(
          { workspaceId: record.id, owner: record.owner, hostId: this.opts.hostId, keyHash: hash, ...(limits && { limits }) },
          CLAIM_REGISTER_TIMEOUT_MS,
        )
        .catch((err: unknown) => this.logger.warn({ id: record.id, code: (err as BerthError).code }, 'egress did not register the LLM key; reconcile will')),
    ]);
  }

  /** The hash of the key prepared for `id`: remembered, else (after a restart) read, else a key minted now. */
  private async preparedHash(id: string): Promise<string | undefined> {
    const remembered = this.prepared.get(id);
    this.prepared.delete(id);
    if (remembered) return remembered;
    const existing = await this.keys!.read(id);
    if (existing) return llmKeyHash(existing);
    return this.writeNewKey(id, 'LLM key not written; the workspace runs without one (rotate gives it one)');
  }

  /** Mints and writes a key for `id`; its hash, or undefined (with `warning` logged) when it could not be written. */
  private async writeNewKey(id: string, warning: string): Promise<string | undefined> {
    if (!this.keys) return undefined;
    const key = newBerthKey();
    try {
      await this.keys.write(id, key);
      return llmKeyHash(key);
    } catch (err) {
      this.logger.warn({ err, id }, warning);
      return undefined;
    }
  }

  /** The LLM variables for a command started now (read per command: revoke and rotate apply to the next one). */
  async env(id: string): Promise<Record<string, string>> {
    const key = await this.keys?.read(id);
    return key ? llmEnv(this.opts.egressUrl, key) : {};
  }

  /** The key as it is now (recreateFrom carries it over to the new container's directory). */
  async current(id: string): Promise<string | undefined> {
    return this.keys?.read(id);
  }

  /** Puts back a key read with `current` (same workspace, same key: egress is not told). */
  async restore(id: string, key: string | undefined): Promise<void> {
    if (!this.keys || !key) return;
    await this.keys.write(id, key);
  }

  /**
   * A workspace is being removed: drop its key and, when it was claimed (only then was the key
   * registered), tell egress, best effort (sync catches what this misses).
   */
  async forget(id: string, wasClaimed: boolean): Promise<void> {
    if (!this.keys) return;
    this.prepared.delete(id);
    await this.keys.remove(id).catch(() => undefined);
    if (!wasClaimed) return;
    void this.egress
      .revoke(id, API_TIMEOUT_MS)
      .catch((err: unknown) => this.logger.warn({ id, code: (err as BerthError).code }, 'egress did not confirm the LLM key revoke; reconcile will'));
  }

  /** Revoke by API: the key leaves the workspace, then egress refuses it. Idempotent. */
  async revoke(id: string): Promise<void> {
    if (!this.keys) return;
    await this.keys.remove(id);
    await this.egress.revoke(id, API_TIMEOUT_MS).catch((err: unknown) => {
      throw new BerthError('SERVICE_UNAVAILABLE', 'the key was removed from the workspace but egress did not confirm the revoke; retry', {
        retryAfterSeconds: 2,
        cause: err,
      });
    });
  }

  /**
   * Paused: egress refuses the key, which stays in the workspace, so a resume brings back the same
   * key (nothing the workspace holds changes). Best effort: reconcile's sync drops it too (not claimed).
   */
  async suspend(id: string): Promise<void> {
    if (!this.keys || !(await this.keys.read(id))) return;
    await this.egress
      .revoke(id, API_TIMEOUT_MS)
      .catch((err: unknown) => this.logger.warn({ id, code: (err as BerthError).code }, 'egress did not confirm the paused LLM key; reconcile will'));
  }

  /** Resumed: egress accepts the workspace's same key again, with its limits (unless it was revoked meanwhile). */
  async reinstate(record: Pick<WorkspaceRecord, 'id' | 'owner'>): Promise<void> {
    const key = await this.keys?.read(record.id);
    if (!key) return;
    const limits = await this.limitsOf(record.id);
    await this.egress
      .register(
        { workspaceId: record.id, owner: record.owner, hostId: this.opts.hostId, keyHash: llmKeyHash(key), ...(limits && { limits }) },
        CLAIM_REGISTER_TIMEOUT_MS,
      )
      .catch((err: unknown) =>
        this.logger.warn({ id: record.id, code: (err as BerthError).code }, 'egress did not register the resumed LLM key; reconcile will'),
      );
  }

  /** A new key; the old one stops working. All or nothing: egress failing leaves the old key in place. */
  async rotate(record: Pick<WorkspaceRecord, 'id' | 'owner'>): Promise<void> {
    if (!this.keys) throw new BerthError('LLM_KEYS_DISABLED', 'LLM keys are not enabled on this host (LLM_EGRESS_URL, LLM_KEYS_ENABLED)');
    const key = newBerthKey();
    const staged = await this.keys.stage(record.id, key);
    const limits = await this.limitsOf(record.id);
    try {
      await this.egress.register(
        { workspaceId: record.id, owner: record.owner, hostId: this.opts.hostId, keyHash: llmKeyHash(key), ...(limits && { limits }) },
        API_TIMEOUT_MS,
      );
    } catch (err) {
      await staged.discard();
      throw new BerthError('SERVICE_UNAVAILABLE', 'egress did not accept the new LLM key; the old one is unchanged', { retryAfterSeconds: 2, cause: err });
    }
    try {
      await staged.commit();
    } catch (err) {
      await staged.discard();
      // egress holds the new key now: give it back the one the workspace still has.
      const old = await this.keys.read(record.id);
      await (
        old
          ? this.egress.register(
              { workspaceId: record.id, owner: record.owner, hostId: this.opts.hostId, keyHash: llmKeyHash(old), ...(limits && { limits }) },
              API_TIMEOUT_MS,
            )
          : this.egress.revoke(record.id, API_TIMEOUT_MS)
      ).catch(() => undefined);
      throw new BerthError('SERVICE_UNAVAILABLE', 'the new LLM key could not be written; the old one is unchanged', { retryAfterSeconds: 2, cause: err });
    }
  }

  /** After each reconcile: every claimed workspace of this host that has a key, by hash. */
  async sync(): Promise<void> {
    if (!this.keys) return;
    const asOf = Date.now();
    const claimed = (await this.store.all()).filter((r) => r.state === 'claimed');
    const keys = [];
    for (const r of claimed) {
      const key = await this.keys.read(r.id);
      if (!key) continue;
      const limits = await this.limitsOf(r.id);
      keys.push({ workspaceId: r.id, owner: r.owner, keyHash: llmKeyHash(key), ...(limits && { limits }) });
    }
    await this.egress
      .sync({ hostId: this.opts.hostId, asOf, keys }, SYNC_TIMEOUT_MS)
      .catch((err: unknown) => this.logger.warn({ code: (err as BerthError).code, keys: keys.length }, 'egress did not take the LLM key sync'));
  }

  private async limitsOf(id: string): Promise<LlmLimits | undefined> {
    const raw = await this.store.llmLimits(id);
    if (!raw) return undefined;
    try {
      const parsed = LlmLimitsSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}
