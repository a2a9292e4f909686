import OpenAI from 'openai';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { localServer } from './helpers.js';
import { startLlmStack, type LlmStack } from './llm-helpers.js';

// A provider that accepts connections and never answers: egress gives up at LLM_UPSTREAM_TIMEOUT_MS.
let s: LlmStack;
let silent: Awaited<ReturnType<typeof localServer>>;

beforeAll(async () => {
  silent = await localServer(() => undefined);
  s = await startLlmStack({ LLM_OPENAI_BASE_URL: `http://127.0.0.1:${silent.port}/v1`, LLM_UPSTREAM_TIMEOUT_MS: '400' });
});
afterAll(async () => {
  await s?.close();
  await silent?.close();
});

test('a provider that sends no headers within LLM_UPSTREAM_TIMEOUT_MS → 502 with a clear message', async () => {
  const { key } = await s.register();
  const t0 = Date.now();
  const err = await new OpenAI({ apiKey: key, baseURL: s.openaiBase, maxRetries: 0 }).models.list().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.APIError);
  expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  expect((err as Error).message).toContain('did not answer within 400 ms');
  expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
});
