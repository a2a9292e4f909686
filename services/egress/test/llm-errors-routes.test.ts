import { describe, expect, it } from 'vitest';
import { llmKeyHash } from '@berth/service-kit';
import { clientKey } from '../src/llm/client-key.js';
import { errorBody } from '../src/llm/errors.js';
import { parseLlmRoute, providerOf } from '../src/llm/routes.js';
import { selfAddressCheck } from '../src/llm/self-address.js';

describe('LLM routes', () => {
  it.each([
    ['/llm/openai/v1/chat/completions', 'openai', 'chat/completions', 'chat/completions'],
    ['/llm/openai/v1/completions', 'openai', 'completions', 'completions'],
    ['/llm/openai/v1/responses', 'openai', 'responses', 'responses'],
    ['/llm/openai/v1/responses/resp_1/input_items', 'openai', 'responses/resp_1/input_items', 'responses/:id'],
    ['/llm/openai/v1/embeddings', 'openai', 'embeddings', 'embeddings'],
    ['/llm/openai/v1/models', 'openai', 'models', 'models'],
    ['/llm/openai/v1/models/meta-llama/Llama-3:8b', 'openai', 'models/meta-llama/Llama-3:8b', 'models/:id'],
    ['/llm/anthropic/v1/messages', 'anthropic', 'messages', 'messages'],
    ['/llm/anthropic/v1/messages/count_tokens', 'anthropic', 'messages/count_tokens', 'messages/count_tokens'],
    ['/llm/anthropic/v1/models/claude-x', 'anthropic', 'models/claude-x', 'models/:id'],
  ])('%s is served', (url, provider, path, endpoint) => {
    expect(parseLlmRoute(url)).toEqual({ provider, path, endpoint, search: '' });
  });

  it('keeps the query string', () => {
    expect(parseLlmRoute('/llm/anthropic/v1/models?limit=2&after_id=x')).toMatchObject({ path: 'models', search: '?limit=2&after_id=x' });
  });

  it.each([
    '/llm/openai/v1/files',
    '/llm/openai/chat/completions',
    '/llm/openai/v1/',
    '/llm/openai/v1/chat/completions/x',
    '/llm/anthropic/v1/complete',
    '/llm/anthropic/v1/models/a/b',
    '/llm/gemini/v1/models',
    '/llm/openai/v1/models/../files',
    '/llm/openai/v1/models/%2e%2e%2ffiles',
    '/llm/openai/v1/models//x',
    '/llm/openai/v1/responses/./x',
  ])('%s is not served', (url) => {
    expect(parseLlmRoute(url)).toBeUndefined();
  });

  it('names the provider for the error format of an unserved path', () => {
    expect(providerOf('/llm/anthropic/v1/complete')).toBe('anthropic');
    expect(providerOf('/llm/openai/v1/files')).toBe('openai');
    expect(providerOf('/llm/other')).toBe('openai');
  });
});

describe('LLM error bodies', () => {
  it('OpenAI format with the right status, type and code', () => {
    expect(errorBody('openai', 'unauthorized', 'unknown key')).toEqual({
      status: 401,
      body: { error: { message: 'berth egress: unknown key', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
    });
    expect(errorBody('openai', 'rate_limited', 'x').body).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect(errorBody('openai', 'rate_limited', 'x').status).toBe(429);
    expect(errorBody('openai', 'not_found', 'x').status).toBe(404);
    expect(errorBody('openai', 'too_large', 'x').status).toBe(413);
    expect(errorBody('openai', 'upstream_unreachable', 'x').status).toBe(502);
    expect(errorBody('openai', 'not_configured', 'x').status).toBe(503);
  });

  it('Anthropic format', () => {
    expect(errorBody('anthropic', 'unauthorized', 'k')).toEqual({
      status: 401,
      body: { type: 'error', error: { type: 'authentication_error', message: 'berth egress: k' } },
    });
    expect(errorBody('anthropic', 'rate_limited', 'k').body).toMatchObject({ error: { type: 'rate_limit_error' } });
    expect(errorBody('anthropic', 'not_found', 'k').body).toMatchObject({ error: { type: 'not_found_error' } });
    expect(errorBody('anthropic', 'too_large', 'k')).toMatchObject({ status: 413, body: { error: { type: 'request_too_large' } } });
    expect(errorBody('anthropic', 'upstream_unreachable', 'k')).toMatchObject({ status: 502, body: { error: { type: 'api_error' } } });
  });
});

describe('client keys', () => {
  const key = `bk_${'a'.repeat(43)}`;
  it('accepts Bearer or x-api-key, only in the bk_ shape', () => {
    expect(clientKey({ authorization: `Bearer ${key}` })).toBe(key);
    expect(clientKey({ 'x-api-key': key })).toBe(key);
    expect(clientKey({ 'x-api-key': 'sk-other', authorization: `bearer ${key}` })).toBe(key);
    expect(clientKey({ authorization: `Bearer ${key}x` })).toBeUndefined();
    expect(clientKey({ authorization: 'Bearer sk-real' })).toBeUndefined();
    expect(clientKey({})).toBeUndefined();
  });
  it('hashes the whole key with SHA-256 (hex)', () => {
    expect(llmKeyHash(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(llmKeyHash(key)).not.toBe(llmKeyHash(`${key.slice(0, -1)}b`));
  });
});

describe('self address', () => {
  it("matches the bind addresses and port; with a wildcard bind, this machine's addresses", () => {
    const narrow = selfAddressCheck(['127.0.0.1', '[fd00::1]'], 3128);
    expect(narrow('127.0.0.1', 3128)).toBe(true);
    expect(narrow('localhost', 3128)).toBe(true);
    expect(narrow('fd00::1', 3128)).toBe(true);
    expect(narrow('127.0.0.1', 80)).toBe(false);
    expect(narrow('10.9.9.9', 3128)).toBe(false);
    const wide = selfAddressCheck(['0.0.0.0'], 3128);
    expect(wide('127.0.0.1', 3128)).toBe(true);
    expect(wide('203.0.113.7', 3128)).toBe(false);
  });
});
