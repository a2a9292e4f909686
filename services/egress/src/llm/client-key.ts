import { LLM_KEY_PATTERN } from '@berth/contracts';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The scoped key a workspace sent: OpenAI SDKs send `Authorization: Bearer bk_…`, Anthropic's
 * `x-api-key: bk_…`; either is accepted for both providers. Undefined when neither holds one.
 */
export function clientKey(headers: IncomingHttpHeaders): string | undefined {
  const candidates = [headers['x-api-key'], /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1]];
  return candidates.map((c) => (Array.isArray(c) ? c[0] : c)).find((c): c is string => typeof c === 'string' && LLM_KEY_PATTERN.test(c));
}
