import { BerthError, LlmLimitsSchema, type LlmLimits } from '@berth/contracts';
import type { Logger } from '@berth/service-kit';
import type { WorkspaceRecord } from '../state/workspace-record.js';
import type { WorkspaceStore } from '../state/workspace-store.js';
import type { LlmEgress } from './egress-client.js';
import { hashKey, mintKey } from './key-file.js';
import type { KeyStore } from './key-store.js';
import { llmEnv } from './llm-env.js';

/** In the claim path: egress not answering in this time never fails a claim (reconcile's sync registers later). */
const CLAIM_REGISTER_TIMEOUT_MS = 1_500;
/** Revoke and rotate by API wait a little longer: the caller is told whether egress confirmed. */
const API_TIMEOUT_MS = 3_000;
const SYNC_TIMEOUT_MS = 5_000;

type LimitsStore = Pick<WorkspaceStore, 'all' | 'setLlmLimits' | 'llmLimits'>;

/**
 * Scoped LLM keys: minted at claim, kept only in the workspace (KeyStore), registered with egress
 * by their SHA-256, given to every command as env, revoked with the workspace. `keys` undefined:
 * LLM keys off (no egress URL), every method a no-op.
 */
export class LlmKeys {
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

  /** A claimed workspace's first key. Never fails the claim: egress silent → a warning, sync registers it later. */
  async mint(record: Pick<WorkspaceRecord, 'id' | 'owner'>, limits?: LlmLimits): Promise<void> {
    if (!this.keys) return;
    const key = mintKey();
    const limitsJson = limits && Object.keys(limits).length > 0 ? JSON.stringify(limits) : undefined;
    // All at once, to keep the claim fast. A key egress registered but the file never got is
    // harmless: nobody holds it, and the next sync drops it.
    await Promise.all([
      this.keys.stage(record.id, key).then((staged) => staged.commit()).catch((err: unknown) => {
        this.logger.warn({ err, id: record.id }, 'LLM key not written; the workspace runs without one (rotate gives it one)');
      }),
      limitsJson ? this.store.setLlmLimits(record.id, limitsJson) : undefined,
      this.egress.register({ workspaceId: record.id, owner: record.owner, hostId: this.opts.hostId, keyHash: hashKey(key), ...(limits && { limits }) }, CLAIM_REGISTER_TIMEOUT_MS)
        .catch((err: unknown) => this.logger.warn({ id: record.id, code: (err as BerthError).code }, 'egress did not register the LLM key; reconcile will')),
    ]);
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
    await (await this.keys.stage(id, key)).commit();
  }

  /** A workspace is being removed: drop its key and tell egress, best effort (sync catches what this misses). */
  async forget(id: string, wasClaimed: boolean): Promise<void> {
    if (!this.keys) return;
    const had = (await this.keys.read(id)) !== undefined;
    await this.keys.remove(id).catch(() => undefined);
    if (!had && !wasClaimed) return;
    void this.egress.revoke(id, API_TIMEOUT_MS).catch((err: unknown) => this.logger.warn({ id, code: (err as BerthError).code }, 'egress did not confirm the LLM key revoke; reconcile will'));
  }

  /** Revoke by API: the key leaves the workspace, then egress refuses it. Idempotent. */
  async revoke(id: string): Promise<void> {
    if (!this.keys) return;
    await this.keys.remove(id);
    await this.egress.revoke(id, API_TIMEOUT_MS).catch((err: unknown) => {
      throw new BerthError('SERVICE_UNAVAILABLE', 'the key was removed from the workspace but egress did not confirm the revoke; retry', { retryAfterSeconds: 2, cause: err });
    });
  }

  /** A new key; the old one stops working. All or nothing: egress failing leaves the old key in place. */
  async rotate(record: Pick<WorkspaceRecord, 'id' | 'owner'>): Promise<void> {
    if (!this.keys) throw new BerthError('SERVICE_UNAVAILABLE', 'LLM keys are not enabled on this host');
    const key = mintKey();
    const staged = await this.keys.stage(record.id, key);
    const limits = await this.limitsOf(record.id);
    try {
      await this.egress.register({ workspaceId: record.id, owner: record.owner, hostId: this.opts.hostId, keyHash: hashKey(key), ...(limits && { limits }) }, API_TIMEOUT_MS);
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
      await (old
        ? this.egress.register({ workspaceId: record.id, owner: record.owner, hostId: this.opts.hostId, keyHash: hashKey(old), ...(limits && { limits }) }, API_TIMEOUT_MS)
        : this.egress.revoke(record.id, API_TIMEOUT_MS)).catch(() => undefined);
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
      if (key) keys.push({ workspaceId: r.id, owner: r.owner, keyHash: hashKey(key) });
    }
    await this.egress.sync({ hostId: this.opts.hostId, asOf, keys }, SYNC_TIMEOUT_MS)
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
