import { createHmac } from 'node:crypto';

/** `sha256=` + hex HMAC-SHA256 of `${timestamp}.${body}` under the callback secret (docs/callbacks.md). */
export function signCallback(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
