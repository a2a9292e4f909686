import type { LlmProvider } from '@berth/contracts';
import type { ServerResponse } from 'node:http';

/** Why egress answers a call itself; each maps to a status and the provider's own error type. */
export type LlmRefusal = 'not_found' | 'not_configured' | 'unauthorized' | 'rate_limited' | 'too_large' | 'upstream_unreachable' | 'unavailable';

const STATUS: Record<LlmRefusal, number> = {
  not_found: 404,
  not_configured: 503,
  unauthorized: 401,
  rate_limited: 429,
  too_large: 413,
  upstream_unreachable: 502,
  unavailable: 503,
};

/** OpenAI `error.type` and `error.code`. */
const OPENAI: Record<LlmRefusal, [string, string]> = {
  not_found: ['invalid_request_error', 'not_found'],
  not_configured: ['server_error', 'provider_not_configured'],
  unauthorized: ['invalid_request_error', 'invalid_api_key'],
  rate_limited: ['requests', 'rate_limit_exceeded'],
  too_large: ['invalid_request_error', 'request_too_large'],
  upstream_unreachable: ['server_error', 'upstream_unreachable'],
  unavailable: ['server_error', 'service_unavailable'],
};

/** Anthropic `error.type`. */
const ANTHROPIC: Record<LlmRefusal, string> = {
  not_found: 'not_found_error',
  not_configured: 'api_error',
  unauthorized: 'authentication_error',
  rate_limited: 'rate_limit_error',
  too_large: 'request_too_large',
  upstream_unreachable: 'api_error',
  unavailable: 'api_error',
};

/** The body a provider's own SDK parses for this refusal. `message` must never hold a key. */
export function errorBody(provider: LlmProvider, refusal: LlmRefusal, message: string): { status: number; body: unknown } {
  const text = `berth egress: ${message}`;
  const status = STATUS[refusal];
  if (provider === 'anthropic') return { status, body: { type: 'error', error: { type: ANTHROPIC[refusal], message: text } } };
  const [type, code] = OPENAI[refusal];
  return { status, body: { error: { message: text, type, param: null, code } } };
}

/** Answers with the provider-format error (and `Retry-After` when given), closing an unread body's connection. */
export function sendError(res: ServerResponse, provider: LlmProvider, refusal: LlmRefusal, message: string, retryAfterSeconds?: number): number {
  const { status, body } = errorBody(provider, refusal, message);
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  const json = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  if (!res.req.complete) headers.connection = 'close';
  res.writeHead(status, headers).end(json);
  return status;
}
