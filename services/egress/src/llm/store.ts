import type { LlmEffectiveLimitsSchema, LlmKeyRegisterRequest, LlmLimits, LlmProvider, LlmUsage } from '@berth/contracts';
import type { z } from 'zod';
import type { Redis } from '@berth/service-kit';
import { LLM_SCRIPTS } from './scripts.js';

type LlmEffectiveLimits = z.infer<typeof LlmEffectiveLimitsSchema>;
type ScriptName = keyof typeof LLM_SCRIPTS;
type Scripted = Redis & Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

/** Usage of a removed workspace stays readable this long. */
const USAGE_TTL_SECONDS = 7 * 24 * 3600;
const NANO = 1e9;

export interface LimitDefaults {
  requestsPerMinute: number;
  tokensPerDay: number;
  /** 0: none. */
  spendCapUsdPerDay: number;
}

export type Admission =
  | { outcome: 'unknown' }
  | { outcome: 'admitted'; workspaceId: string; owner: string }
  | {
      outcome: 'limited';
      workspaceId: string;
      owner: string;
      reason: 'requests' | 'tokens' | 'spend';
      scope: 'workspace' | 'owner';
      retryAfterSeconds: number;
      limit: number;
    };

export interface CallUsage {
  workspaceId: string;
  owner: string;
  provider: LlmProvider;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** The provider answered 2xx (counted as a request in the totals). */
  answered: boolean;
}

/** The caller's limits capped by the defaults (a caller tightens, never loosens). */
export function effectiveLimits(defaults: LimitDefaults, limits: LlmLimits | undefined): LlmEffectiveLimits {
  const cap = defaults.spendCapUsdPerDay > 0 ? defaults.spendCapUsdPerDay : undefined;
  const asked = limits?.spendCapUsdPerDay;
  const spend = cap === undefined ? asked : asked === undefined ? cap : Math.min(asked, cap);
  return {
    requestsPerMinute: Math.min(limits?.requestsPerMinute ?? defaults.requestsPerMinute, defaults.requestsPerMinute),
    tokensPerDay: Math.min(limits?.tokensPerDay ?? defaults.tokensPerDay, defaults.tokensPerDay),
    spendCapUsdPerDay: spend ?? null,
  };
}

const nano = (usd: number | null) => Math.round((usd ?? 0) * NANO);
const limitArgs = (l: LlmEffectiveLimits) => [l.requestsPerMinute, l.tokensPerDay, nano(l.spendCapUsdPerDay)];

/**
 * Scoped LLM keys (by SHA-256 only), limits and usage in Redis under berth:llm:. Nothing is
 * cached in the process: a revoked key is refused on its next request.
 */
export class LlmStore {
  private readonly redis: Scripted;

  constructor(
    redis: Redis,
    private readonly workspaceDefaults: LimitDefaults,
    private readonly ownerDefaults: LimitDefaults,
  ) {
    for (const [name, lua] of Object.entries(LLM_SCRIPTS)) if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    this.redis = redis as Scripted;
  }

  async register(req: LlmKeyRegisterRequest): Promise<void> {
    const limits = effectiveLimits(this.workspaceDefaults, req.limits);
    await this.redis.berthLlmRegister(req.workspaceId, req.owner, req.hostId, req.keyHash, ...limitArgs(limits), USAGE_TTL_SECONDS);
  }

  async revoke(workspaceId: string): Promise<boolean> {
    return Number(await this.redis.berthLlmRevoke(workspaceId, USAGE_TTL_SECONDS)) === 1;
  }

  async sync(
    hostId: string,
    asOf: number,
    keys: { workspaceId: string; owner: string; keyHash: string; limits?: LlmLimits | undefined }[],
  ): Promise<{ added: number; removed: number }> {
    const [added, removed] = (await this.redis.berthLlmSync(
      hostId,
      asOf,
      USAGE_TTL_SECONDS,
      ...keys.flatMap((k) => [k.workspaceId, k.owner, k.keyHash, ...limitArgs(effectiveLimits(this.workspaceDefaults, k.limits))]),
    )) as [number, number];
    return { added, removed };
  }

  /** Whether a key is registered (not revoked), without counting a request against its limits. */
  async known(keyHash: string): Promise<boolean> {
    return (await this.redis.exists(`berth:llm:key:${keyHash}`)) === 1;
  }

  async admit(keyHash: string): Promise<Admission> {
    const o = this.ownerDefaults;
    const r = (await this.redis.berthLlmAdmit(keyHash, o.requestsPerMinute, o.tokensPerDay, nano(o.spendCapUsdPerDay))) as (string | number)[];
    if (r[0] === 0) return { outcome: 'unknown' };
    const [, workspaceId, owner] = r as [number, string, string];
    if (r[0] === 1) return { outcome: 'admitted', workspaceId, owner };
    const [, , , reason, scope, retryAfterSeconds, limit] = r as [
      number,
      string,
      string,
      'requests' | 'tokens' | 'spend',
      'workspace' | 'owner',
      number,
      number,
    ];
    return { outcome: 'limited', workspaceId, owner, reason, scope, retryAfterSeconds, limit: reason === 'spend' ? limit / NANO : limit };
  }

  async record(u: CallUsage): Promise<void> {
    await this.redis.berthLlmRecord(u.workspaceId, u.owner, u.provider, u.inputTokens, u.outputTokens, nano(u.costUsd), u.answered ? 1 : 0, USAGE_TTL_SECONDS);
  }

  async usage(workspaceId: string): Promise<LlmUsage> {
    const [limits, today, flat] = (await this.redis.berthLlmUsage(workspaceId)) as [(string | null)[], [string, string], string[]];
    const h = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) h.set(flat[i]!, Number(flat[i + 1]));
    const totals = (pre: string) => ({
      requests: h.get(`${pre}requests`) ?? 0,
      inputTokens: h.get(`${pre}in`) ?? 0,
      outputTokens: h.get(`${pre}out`) ?? 0,
      costUsd: (h.get(`${pre}nusd`) ?? 0) / NANO,
    });
    const byProvider: LlmUsage['byProvider'] = {};
    for (const p of ['openai', 'anthropic'] as const) if (h.has(`${p}:in`)) byProvider[p] = totals(`${p}:`);
    const active = limits.length === 3 && limits[0] !== null;
    return {
      ...totals(''),
      keyActive: active,
      byProvider,
      today: { tokens: Number(today[0]), costUsd: Number(today[1]) / NANO },
      limits: active
        ? { requestsPerMinute: Number(limits[0]), tokensPerDay: Number(limits[1]), spendCapUsdPerDay: Number(limits[2]) > 0 ? Number(limits[2]) / NANO : null }
        : null,
    };
  }
}
