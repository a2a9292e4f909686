import { z } from 'zod';
import { WorkspaceIdSchema } from './names.js';

/**
 * LLM egress: every workspace gets a scoped key (`bk_…`) that only egress accepts, and egress
 * swaps it for the provider's real key. Only the key's SHA-256 leaves pool-manager and the
 * workspace; these messages never carry a key.
 */
export const LLM_PROVIDERS = ['openai', 'anthropic'] as const;
export const LlmProviderSchema = z.enum(LLM_PROVIDERS);
export type LlmProvider = z.infer<typeof LlmProviderSchema>;

/** `bk_` and 43 base64url characters (32 random bytes). */
export const LLM_KEY_PATTERN = /^bk_[A-Za-z0-9_-]{43}$/;
/** Hex SHA-256 of the whole key, `bk_` included. */
export const LlmKeyHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256');

/**
 * Limits a caller may set for one workspace when creating it. Each is capped by egress's own
 * per-workspace default: a caller can tighten its workspaces' limits, never loosen them.
 */
export const LlmLimitsSchema = z
  .strictObject({
    requestsPerMinute: z.number().int().min(1).max(1_000_000).optional(),
    tokensPerDay: z.number().int().min(1).max(1e12).optional(),
    /** Spend per UTC day, from the provider's reported usage and egress's price table. */
    spendCapUsdPerDay: z.number().positive().max(1_000_000).optional(),
  })
  .meta({ id: 'LlmLimits' });
export type LlmLimits = z.infer<typeof LlmLimitsSchema>;

/** The limits in force: caller's override within egress's defaults. `null`: no cap. */
export const LlmEffectiveLimitsSchema = z
  .object({
    requestsPerMinute: z.number().int().positive(),
    tokensPerDay: z.number().int().positive(),
    spendCapUsdPerDay: z.number().positive().nullable(),
  })
  .meta({ id: 'LlmEffectiveLimits' });

/** pool-manager → egress when a workspace is claimed (or its key rotated). Replaces any earlier key of the workspace. */
export const LlmKeyRegisterRequestSchema = z.object({
  workspaceId: WorkspaceIdSchema,
  owner: z.string().min(1).max(100),
  hostId: z.string().min(1).max(64),
  keyHash: LlmKeyHashSchema,
  limits: LlmLimitsSchema.optional(),
});
export type LlmKeyRegisterRequest = z.infer<typeof LlmKeyRegisterRequestSchema>;
export const LlmKeyRegisterReplySchema = z.object({ registered: z.literal(true) });

/** pool-manager → egress when a workspace is removed or its key revoked. Idempotent. */
export const LlmKeyRevokeRequestSchema = z.object({ workspaceId: WorkspaceIdSchema });
export const LlmKeyRevokeReplySchema = z.object({ revoked: z.boolean() });

/**
 * pool-manager → egress on every reconcile: the keys of all claimed workspaces of `hostId`.
 * egress drops that host's keys registered before `asOf` and not listed (their workspace is
 * gone), and registers listed ones it lacks, unless revoked since.
 */
export const LlmKeySyncRequestSchema = z.object({
  hostId: z.string().min(1).max(64),
  asOf: z.number().int().nonnegative(),
  keys: z
    .array(
      z.object({
        workspaceId: WorkspaceIdSchema,
        owner: z.string().min(1).max(100),
        keyHash: LlmKeyHashSchema,
        /** The limits the claim asked for, so a key registered by a sync is as tight as one registered at claim. */
        limits: LlmLimitsSchema.optional(),
      }),
    )
    .max(100_000),
});
export const LlmKeySyncReplySchema = z.object({ added: z.number().int().nonnegative(), removed: z.number().int().nonnegative() });

const TokenTotalsShape = {
  requests: z.number().int().nonnegative(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
};

/** A workspace's LLM use since it was claimed (part of GET /api/containers/:id/usage). */
export const LlmUsageSchema = z
  .object({
    ...TokenTotalsShape,
    /** Whether the workspace's key is accepted now (false after revoke). */
    keyActive: z.boolean(),
    byProvider: z.partialRecord(LlmProviderSchema, z.object(TokenTotalsShape)),
    /** Today's (UTC) tokens and spend, which the daily limits count. */
    today: z.object({ tokens: z.number().int().nonnegative(), costUsd: z.number().nonnegative() }),
    limits: LlmEffectiveLimitsSchema.nullable(),
  })
  .meta({ id: 'LlmUsage' });
export type LlmUsage = z.infer<typeof LlmUsageSchema>;

export const LlmUsageRequestSchema = z.object({ workspaceId: WorkspaceIdSchema });

/** One proxied LLM call, published by egress on `berth.evt.usage.<id>.llm`. */
export const LlmUsageEventSchema = z
  .object({
    workspaceId: WorkspaceIdSchema,
    owner: z.string(),
    provider: LlmProviderSchema,
    /** The API path below the provider's base, e.g. `chat/completions` or `messages`. */
    endpoint: z.string(),
    /** The model the provider reported, or null when its answer named none. */
    model: z.string().nullable(),
    stream: z.boolean(),
    /** The provider's HTTP status (egress's own refusals are not usage). */
    status: z.number().int(),
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    costUsd: z.number().nonnegative(),
    durationMs: z.number().nonnegative(),
    at: z.iso.datetime(),
  })
  .meta({ id: 'LlmUsageEvent' });
export type LlmUsageEvent = z.infer<typeof LlmUsageEventSchema>;

/** gateway → pool-manager: DELETE / POST /api/containers/:id/llm-key. */
export const LlmKeyStateReplySchema = z.object({ id: WorkspaceIdSchema, llmKey: z.enum(['active', 'revoked']) }).meta({ id: 'LlmKeyState' });
export type LlmKeyStateReply = z.infer<typeof LlmKeyStateReplySchema>;
