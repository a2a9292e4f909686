import { BerthError, DEFAULT_OWNER_LIMITS, type CreateContainerBody } from '@berth/contracts';
import type { ApiKey } from './api-key.js';

const ASKED = ['cpus', 'memoryMb', 'diskMb'] as const;

/** 400 LIMIT_EXCEEDED when a create asks for more than its key's owner may (keys file `limits`). */
export function checkOwnerLimits(key: ApiKey | undefined, body: CreateContainerBody): void {
  const max = { ...DEFAULT_OWNER_LIMITS, ...key?.limits };
  const over = ASKED.filter((k) => body[k] !== undefined && body[k] > max[k]);
  if (over.length === 0) return;
  throw new BerthError('LIMIT_EXCEEDED', `asked for more than this API key's owner may: ${over.map((k) => `${k} ${body[k]} > ${max[k]}`).join(', ')}`, {
    details: over.map((k) => ({ path: k, message: `at most ${max[k]}` })),
  });
}
