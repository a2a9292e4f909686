import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { DEFAULT_HOST_ID } from '@berth/contracts';

/** A new workspace id naming its host (contracts' WorkspaceIdSchema); the default host's ids stay `ws_<hex>`. */
export function newWorkspaceId(hostId: string = DEFAULT_HOST_ID): string {
  const hex = randomBytes(8).toString('hex');
  return hostId === DEFAULT_HOST_ID ? `ws_${hex}` : `ws_${hostId}_${hex}`;
}

/**
 * A berth key, shown once and stored only hashed: `bk_` and 32 random bytes, base64url. Gateway API
 * keys and workspaces' scoped LLM keys (contracts' LLM_KEY_PATTERN) both look like this.
 */
export function newBerthKey(): string {
  return `bk_${randomBytes(32).toString('base64url')}`;
}

/** How a scoped LLM key is named outside its workspace: hex SHA-256 of the whole key (contracts' LlmKeyHashSchema). */
export function llmKeyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function newRequestId(): string {
  return `req_${randomBytes(12).toString('hex')}`;
}

/** Constant-time comparison of two secrets of any length (hashing first evens the lengths). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}
