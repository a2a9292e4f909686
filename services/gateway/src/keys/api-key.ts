import { createHash, timingSafeEqual } from 'node:crypto';
import { OwnerLimitsSchema, type OwnerLimits } from '@berth/contracts';
import { z } from 'zod';

const SCOPES = ['read', 'write', 'exec', 'admin'] as const;
const ScopeSchema = z.enum(SCOPES);
export type Scope = z.infer<typeof ScopeSchema>;

const HASH = /^[\da-f]{64}$/;

/**
 * One entry of the keys file. Only the sha256 of the key is stored: keys are 32 random bytes, so a
 * plain hash is enough (no salt or slow hash needed against guessing). Owner is who the key acts as:
 * containers belong to owners, so several keys of one owner (rotation, separate agents) share them.
 */
export const ApiKeyEntrySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, '1 to 64 characters of A-Z a-z 0-9 _ . -'),
    hash: z
      .string()
      .transform((h) => h.replace(/^sha256:/, ''))
      .pipe(z.string().regex(HASH, 'sha256 of the key as 64 hex digits')),
    scopes: z.array(ScopeSchema).min(1),
    owner: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, '1 to 100 characters of A-Z a-z 0-9 _ . -'),
    /** This key's own token bucket; without it the gateway's RATE_LIMIT_RPS / RATE_LIMIT_BURST. rps 0: unlimited. */
    rateLimit: z
      .object({ rps: z.number().min(0).max(1_000_000), burst: z.number().int().min(1).max(1_000_000) })
      .strict()
      .optional(),
    /** The most cpus, memoryMb and diskMb this key's creates may ask for; unset ones are DEFAULT_OWNER_LIMITS. */
    limits: OwnerLimitsSchema.optional(),
  })
  .strict();
export type ApiKeyEntry = z.infer<typeof ApiKeyEntrySchema>;

export const ApiKeysFileSchema = z.array(ApiKeyEntrySchema).superRefine((keys, ctx) => {
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (const [i, k] of keys.entries()) {
    if (names.has(k.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate key name ${k.name}` });
    if (hashes.has(k.hash)) ctx.addIssue({ code: 'custom', path: [i, 'hash'], message: 'duplicate key hash' });
    names.add(k.name);
    hashes.add(k.hash);
  }
});

/** What a request authenticated with: everything but the hash. */
export interface ApiKey {
  name: string;
  owner: string;
  scopes: ReadonlySet<Scope>;
  rateLimit: { rps: number; burst: number } | undefined;
  limits?: OwnerLimits | undefined;
}

export const hashKey = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** The key BERTH_API_TOKEN stands for: every scope, owner 'default' (as before there were keys). */
const LEGACY_TOKEN_KEY = { name: 'api-token', owner: 'default', scopes: [...SCOPES] } as const;

interface Held {
  key: ApiKey;
  hash: Buffer;
}

/**
 * The keys the gateway accepts. `replace` swaps the whole set at once (a reload), so during a
 * rotation the old and new keys are both valid until the file drops the old one.
 */
export class KeyRing {
  private held: Held[] = [];

  constructor(
    entries: ApiKeyEntry[] = [],
    private readonly fixed: Held[] = [],
  ) {
    this.replace(entries);
  }

  /** A ring holding just the shared API token (tests, and BERTH_API_TOKEN without a keys file). */
  static fromToken(token: string): KeyRing {
    return new KeyRing([], [tokenHeld(token)]);
  }

  /** The file's keys plus the API token's, which no reload removes. */
  static withToken(token: string | undefined, entries: ApiKeyEntry[]): KeyRing {
    return new KeyRing(entries, token === undefined ? [] : [tokenHeld(token)]);
  }

  replace(entries: ApiKeyEntry[]): void {
    this.held = [
      ...this.fixed,
      ...entries.map((e) => ({
        key: { name: e.name, owner: e.owner, scopes: new Set(e.scopes), rateLimit: e.rateLimit, limits: e.limits },
        hash: Buffer.from(e.hash, 'hex'),
      })),
    ];
  }

  get size(): number {
    return this.held.length;
  }

  /** The key whose hash matches; every held hash is compared in constant time, with no early exit. */
  authenticate(given: string): ApiKey | undefined {
    const hash = hashKey(given);
    let found: ApiKey | undefined;
    for (const h of this.held) if (timingSafeEqual(h.hash, hash) && found === undefined) found = h.key;
    return found;
  }
}

function tokenHeld(token: string): Held {
  return { key: { ...LEGACY_TOKEN_KEY, scopes: new Set(LEGACY_TOKEN_KEY.scopes), rateLimit: undefined }, hash: hashKey(token) };
}
