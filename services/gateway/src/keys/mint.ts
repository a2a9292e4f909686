import { newBerthKey } from '@berth/service-kit';
import { ApiKeyEntrySchema, hashKey, type ApiKeyEntry } from './api-key.js';

/** A new key: `bk_` and 32 random bytes (base64url). Only its hash is ever stored. */
export function mintKey(fields: Omit<ApiKeyEntry, 'hash'>): { key: string; entry: ApiKeyEntry } {
  const key = newBerthKey();
  const entry = ApiKeyEntrySchema.parse({ ...fields, hash: hashKey(key).toString('hex') });
  return { key, entry };
}
