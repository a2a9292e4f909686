import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { EVENTS, LlmUsageEventSchema, type LlmUsageEvent } from '@berth/contracts';
import { createLogger, createRedis } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FAKE_REPLY } from '../../../test/support/fake-llm.js';
import { findSecret, redisEntries } from '../../../test/support/secret-scan.js';
import { raw, sha256, startLlmStack, type LlmStack } from './llm-helpers.js';

// Egress as a real process (real NATS and Redis) in front of the fake providers, called with the
// official, unmodified SDKs.
let s: LlmStack;
let ws: string;
let key: string;
const events: LlmUsageEvent[] = [];
const TEXT = FAKE_REPLY.join('');

const openai = (apiKey = key) => new OpenAI({ apiKey, baseURL: s.openaiBase, maxRetries: 0 });
const anthropic = (apiKey = key) => new Anthropic({ apiKey, baseURL: s.anthropicBase, maxRetries: 0 });

beforeAll(async () => {
  s = await startLlmStack({ LLM_MAX_BODY_BYTES: String(1024 * 1024) });
  ({ workspaceId: ws, key } = await s.register({ owner: 'alice' }));
  s.nc.subscribe(EVENTS.usage.subject(ws), {
    callback: (_e, m) => {
      events.push(LlmUsageEventSchema.parse(m.json()));
    },
  });
  await s.nc.flush();
});
afterAll(async () => {
  await s?.close();
});

describe('LLM proxy with the official SDKs', () => {
  test('OpenAI chat completion, non-streaming: the answer arrives, the provider saw the real key only', async () => {
    const r = await openai().chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe(TEXT);
    const seen = s.fake.requests.at(-1)!;
    expect(seen).toMatchObject({ provider: 'openai', path: 'chat/completions', auth: `Bearer ${s.openaiKey}`, stream: false });
  });

  test('OpenAI chat completion, streaming with usage', async () => {
    const stream = await openai().chat.completions.create({
      model: 'gpt-fake',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(TEXT);
    expect(usage).toMatchObject({ completion_tokens: FAKE_REPLY.length });
  });

  test('OpenAI responses, embeddings and models', async () => {
    const r = await openai().responses.create({ model: 'gpt-fake', input: 'hello' });
    expect(r.output_text).toBe(TEXT);
    const e = await openai().embeddings.create({ model: 'emb-fake', input: ['a', 'b'] });
    expect(e.data).toHaveLength(2);
    expect(e.data[0]!.embedding[1]).toBe(-0.5);
    const models = await openai().models.list();
    expect(models.data.map((m) => m.id)).toEqual(['gpt-fake']);
  });

  test('Anthropic messages, non-streaming and streaming', async () => {
    const m = await anthropic().messages.create({ model: 'claude-fake', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    expect(m.content[0]).toMatchObject({ type: 'text', text: TEXT });
    expect(s.fake.requests.at(-1)).toMatchObject({ provider: 'anthropic', path: 'messages', auth: s.anthropicKey });
    const stream = anthropic().messages.stream({ model: 'claude-fake', max_tokens: 100, messages: [{ role: 'user', content: 'stream' }] });
    let text = '';
    stream.on('text', (t) => {
      text += t;
    });
    const final = await stream.finalMessage();
    expect(text).toBe(TEXT);
    expect(final.usage.output_tokens).toBe(FAKE_REPLY.length);
  });

  test('query strings pass through; anthropic models', async () => {
    const page = await anthropic().models.list({ limit: 2 });
    expect(page.data[0]!.id).toBe('claude-fake');
    expect(s.fake.requests.at(-1)!.path).toBe('models?limit=2');
  });

  test('usage totals (llmUsage) match what the provider reported, and one event per call was published', async () => {
    const u = await s.usage(ws);
    expect(u.requests).toBe(s.fake.reported.requests);
    expect(u.inputTokens).toBe(s.fake.reported.inputTokens);
    expect(u.outputTokens).toBe(s.fake.reported.outputTokens);
    expect(u.inputTokens).toBeGreaterThan(0);
    expect(u.byProvider.openai!.requests + u.byProvider.anthropic!.requests).toBe(u.requests);
    expect(u.keyActive).toBe(true);
    expect(u.limits).toEqual({ requestsPerMinute: 60, tokensPerDay: 2_000_000, spendCapUsdPerDay: null });
    expect(u.today.tokens).toBe(u.inputTokens + u.outputTokens);
    await s.nc.flush();
    expect(events).toHaveLength(s.fake.reported.requests);
    expect(events.reduce((n, e) => n + e.inputTokens, 0)).toBe(s.fake.reported.inputTokens);
    expect(events.reduce((n, e) => n + e.outputTokens, 0)).toBe(s.fake.reported.outputTokens);
    expect(events.find((e) => e.endpoint === 'messages' && e.stream)).toMatchObject({
      owner: 'alice',
      provider: 'anthropic',
      model: 'claude-fake',
      status: 200,
    });
    // No request carried a scoped key to the provider.
    expect(s.fake.requests.every((r) => !String(r.auth).includes('bk_'))).toBe(true);
  });

  test('unknown and revoked keys get 401 (AuthenticationError in both SDKs)', async () => {
    const { workspaceId, key: other } = await s.register();
    await expect(openai('bk_' + 'A'.repeat(43)).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(anthropic('not-a-berth-key').models.list()).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await openai(other).models.list();
    expect(await s.revoke(workspaceId)).toBe(true);
    const before = s.fake.requests.length;
    const err = await openai(other)
      .models.list()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
    await expect(anthropic(other).models.list()).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    expect(s.fake.requests.length).toBe(before); // refused by egress, never forwarded
    const after = await s.usage(workspaceId);
    expect(after).toMatchObject({ keyActive: false, limits: null, requests: 1 });
    // Usage of a removed workspace stays readable for 7 days, then goes.
    const r = createRedis({ url: s.redis.url, name: 'llm-test', logger: createLogger('t', 'silent') });
    const ttl = await r.ttl(`berth:llm:usage:${workspaceId}`);
    r.disconnect();
    expect(ttl).toBeGreaterThan(7 * 86400 - 60);
    expect(ttl).toBeLessThanOrEqual(7 * 86400);
    // A second registration replaces the key: the old one dies.
    const first = await s.register({ workspaceId });
    const second = await s.register({ workspaceId });
    await expect(openai(first.key).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await openai(second.key).models.list();
  });

  test('error formats: 404 path, anthropic 401 body, provider 4xx passed through unchanged', async () => {
    const nf = await raw(s.port, '/llm/openai/v1/fine_tuning/jobs', { headers: { authorization: `Bearer ${key}` } });
    expect(nf.status).toBe(404);
    expect(JSON.parse(nf.text)).toMatchObject({ error: { type: 'invalid_request_error', param: null, code: 'not_found' } });
    const leaky = await raw(s.port, `/llm/anthropic/v1/${key}?k=${key}`, { headers: { 'x-api-key': key } });
    expect(leaky.status).toBe(404);
    expect(JSON.parse(leaky.text)).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect(leaky.text).not.toContain(key.slice(3));
    const bad = await raw(s.port, '/llm/anthropic/v1/messages', {
      body: '{}',
      headers: { 'x-api-key': 'bk_' + 'B'.repeat(43), 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.text)).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: expect.stringMatching(/^berth egress: /) as string },
    });
    const body = { error: { message: 'model "nope" does not exist', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } };
    s.fake.failNext(400, body);
    const err = await openai()
      .chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('model_not_found');
    s.fake.failNext(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    const over = await raw(s.port, '/llm/anthropic/v1/messages', { body: '{"model":"m"}', headers: { 'x-api-key': key } });
    expect(over.status).toBe(529);
    expect(JSON.parse(over.text)).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });

  test('a body over LLM_MAX_BODY_BYTES gets 413, by content-length and while streaming', async () => {
    const big = JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024 + 10) }] });
    const before = s.fake.requests.length;
    const err = await openai()
      .chat.completions.create(JSON.parse(big) as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    // Chunked (no content-length): cut while streaming.
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new Uint8Array(128 * 1024));
        c.close();
      },
    });
    const res = await fetch(`${s.anthropicBase}/v1/messages`, {
      method: 'POST',
      body: chunked,
      duplex: 'half',
      headers: { 'x-api-key': key },
    } as RequestInit).catch((e: unknown) => e);
    expect(res).toBeInstanceOf(Response);
    expect((res as Response).status).toBe(413);
    expect(JSON.parse(await (res as Response).text())).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    expect(s.fake.requests.length).toBeLessThanOrEqual(before + 1);
  });

  test('real keys and scoped keys never appear in egress output or in Redis (only hashes)', async () => {
    for (const secret of [s.openaiKey, s.anthropicKey, key]) expect(s.egress.allOutput).not.toContain(secret);
    const entries = await redisEntries(s.redis.url);
    expect(entries.some(([where]) => where.includes(`berth:llm:key:${sha256(key)}`))).toBe(true);
    for (const secret of [s.openaiKey, s.anthropicKey, key]) expect(findSecret(entries, secret)).toEqual([]);
    expect(s.egress.allOutput).toContain('"msg":"llm call"');
  });

  test('provider down → 502 in the provider format', async () => {
    await s.fake.close();
    const err = await openai()
      .models.list()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    const r = await raw(s.port, '/llm/anthropic/v1/messages', { body: '{}', headers: { 'x-api-key': key } });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.text)).toMatchObject({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('unreachable') as string } });
  });
});
