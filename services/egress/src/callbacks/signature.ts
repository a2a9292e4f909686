import { WEBHOOK_SECRET_PREFIX, whsecKeyBytes } from '@berth/contracts';
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * The HMAC key of a callback secret: a `whsec_` secret's decoded bytes, any other secret's UTF-8
 * bytes (the package's own string handling would take UTF-16 code units, not UTF-8).
 */
export function callbackKey(secret: string): Uint8Array {
  const key = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? whsecKeyBytes(secret) : new TextEncoder().encode(secret);
  // Registration validated the secret (CallbackSecretSchema); reaching this is a bug, never a weaker key.
  if (!key) throw new Error('invalid callback secret');
  return key;
}

/** `webhook-signature` per Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  return new Webhook(callbackKey(secret), { format: 'raw' }).sign(id, new Date(timestamp * 1000), body);
}

/** @deprecated `x-berth-signature`: `sha256=` + hex HMAC-SHA256 of `${timestamp}.${body}` (docs/callbacks.md). */
export function signCallback(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
