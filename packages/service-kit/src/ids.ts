import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

export function newWorkspaceId(): string {
  return `ws_${randomBytes(8).toString('hex')}`;
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
