import OpenAI from 'openai';
import { newBerthKey, request as natsRequest } from '@berth/service-kit';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fakeInputTokens } from '../../../test/support/fake-llm.js';
import { raw, sha256, startLlmStack, type LlmStack } from './llm-helpers.js';
import { newWorkspaceId } from './helpers.js';

// Limits, key sync, streaming latency and an unconfigured provider, on a real egress process.
let s: LlmStack;
const CHUNK_DELAY_MS = 120;

const openai = (apiKey: string) => new OpenAI({ apiKey, baseURL: s.openaiBase, maxRetries: 0 });
const chat = (apiKey: string, model = 'gpt-fake') => openai(apiKey).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: unknown) => (e as { status?: number }).status ?? 0,
  );
const secondsToUtcMidnight = () => 86400 - (Math.floor(Date.now() / 1000) % 86400);

beforeAll(async () => {
  s = await startLlmStack(
    {
      LLM_ANTHROPIC_API_KEY: '',
      LLM_OWNER_REQUESTS_PER_MINUTE: '40',
      LLM_PRICES: JSON.stringify({
        'gpt-priced*': { inputPerMTok: 1_000_000, outputPerMTok: 2_000_000 },
        'gpt-priced-exact': { inputPerMTok: 0, outputPerMTok: 0 },
      }),
    },
    { chunkDelayMs: CHUNK_DELAY_MS },
  );
});
afterAll(async () => {
  await s?.close();
});

/** Calls with `key` until one is refused: how many were answered (each a 200), and the 429. */
async function untilRefused(key: string): Promise<{ admitted: number; refused: Awaited<ReturnType<typeof raw>> }> {
  for (let admitted = 0; admitted < 100; admitted++) {
    const r = await raw(s.port, '/llm/openai/v1/models', { headers: { authorization: `Bearer ${key}` } });
    if (r.status === 429) return { admitted, refused: r };
    expect(r.status).toBe(200);
  }
  throw new Error('100 calls answered: no limit');
}

describe('LLM limits', () => {
  test('requests per minute: 429 with Retry-After in the provider format once the burst is spent, then recovers', async () => {
    const { key } = await s.register({ limits: { requestsPerMinute: 30 } });
    // A rate (GCRA): a burst of 30, then one more every 2 s, so a slow machine gets a few more in.
    const started = Date.now();
    const { admitted, refused: r } = await untilRefused(key);
    const forwarded = s.fake.requests.length;
    expect(admitted).toBeGreaterThanOrEqual(30);
    expect(admitted).toBeLessThanOrEqual(30 + Math.ceil((Date.now() - started) / 2000));
    const retryAfter = Number(r.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2); // one request every 2 s
    expect(JSON.parse(r.text)).toMatchObject({
      error: {
        type: 'requests',
        code: 'rate_limit_exceeded',
        param: null,
        message: expect.stringContaining('workspace limit of 30 requests per minute') as string,
      },
    });
    const err = await openai(key)
      .models.list()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(s.fake.requests.length).toBe(forwarded);
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
    expect(await status(openai(key).models.list())).toBe(200);
  });

  test("per-owner requests per minute count across the owner's workspaces", async () => {
    const a = await s.register({ owner: 'bob', limits: { requestsPerMinute: 30 } });
    const b = await s.register({ owner: 'bob', limits: { requestsPerMinute: 30 } });
    // A rate, not a window (GCRA): a burst of 40, then one more every 1.5 s. So past the 30 of `a`,
    // `b` is answered until the owner's 40 are spent, plus one for each 1.5 s the calls took.
    const started = Date.now();
    for (let i = 0; i < 30; i++) expect(await status(openai(a.key).models.list())).toBe(200);
    const { admitted: onB, refused } = await untilRefused(b.key);
    const admitted = 30 + onB;
    expect(admitted).toBeGreaterThanOrEqual(40);
    expect(admitted).toBeLessThanOrEqual(40 + Math.ceil((Date.now() - started) / 1500));
    expect(refused.text).toContain('owner limit of 40 requests per minute');
  });

  test('tokens per day: the call that crosses the limit is answered, the next gets 429 until UTC midnight', async () => {
    const { key, workspaceId } = await s.register({ limits: { tokensPerDay: 10 } });
    expect(await status(chat(key))).toBe(200);
    const r = await raw(s.port, '/llm/openai/v1/chat/completions', {
      body: '{"model":"gpt-fake","messages":[]}',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    expect(r.status).toBe(429);
    expect(Math.abs(Number(r.headers.get('retry-after')) - secondsToUtcMidnight())).toBeLessThanOrEqual(2);
    expect(r.text).toContain('tokens per day');
    const u = await s.usage(workspaceId);
    expect(u.requests).toBe(1); // the refusal is not usage
    expect(u.limits?.tokensPerDay).toBe(10);
  });

  test('spend cap from LLM_PRICES (prefix and exact entries): 429 once spent; cost in usage', async () => {
    const { key, workspaceId } = await s.register({ limits: { spendCapUsdPerDay: 5 } });
    const body = { model: 'gpt-priced-exact', messages: [{ role: 'user' as const, content: 'hi' }] };
    await openai(key).chat.completions.create(body);
    expect((await s.usage(workspaceId)).costUsd).toBe(0); // exact entry wins over the prefix: free
    await openai(key).chat.completions.create({ ...body, model: 'gpt-priced-1' });
    const u = await s.usage(workspaceId);
    const input = fakeInputTokens({ ...body, model: 'gpt-priced-1' });
    expect(u.costUsd).toBeCloseTo(input * 1 + 6 * 2, 6);
    expect(u.today.costUsd).toBeCloseTo(u.costUsd, 6);
    expect(u.limits?.spendCapUsdPerDay).toBe(5);
    const err = await openai(key)
      .chat.completions.create(body)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(String((err as Error).message)).toContain('spend');
  });

  test('caller limits are capped by the workspace defaults', async () => {
    const { workspaceId } = await s.register({ limits: { requestsPerMinute: 1000, tokensPerDay: 5 } });
    expect((await s.usage(workspaceId)).limits).toEqual({ requestsPerMinute: 60, tokensPerDay: 5, spendCapUsdPerDay: null });
  });
});

describe('LLM keys: sync', () => {
  test('sync drops unlisted keys of the host registered before asOf, keeps newer ones, never re-adds a revoked key, adds lost ones with their limits', async () => {
    const host = `h-${Date.now()}`;
    const [a, b, c] = [await s.register({ hostId: host }), await s.register({ hostId: host }), await s.register({ hostId: host })];
    await s.revoke(c.workspaceId);
    const asOf = Date.now() + 1;
    await new Promise((r) => setTimeout(r, 5));
    const late = await s.register({ hostId: host });
    const lost = { workspaceId: newWorkspaceId(), key: newBerthKey() };
    const reply = await natsRequest(s.nc, 'llmKeySync', {
      hostId: host,
      asOf,
      keys: [a, c, lost].map((k) => ({ workspaceId: k.workspaceId, owner: 'o', keyHash: sha256(k.key), ...(k === lost && { limits: { tokensPerDay: 5 } }) })),
    });
    expect(reply).toEqual({ added: 1, removed: 1 });
    expect(await status(openai(a.key).models.list())).toBe(200);
    expect(await status(openai(b.key).models.list())).toBe(401);
    expect(await status(openai(c.key).models.list())).toBe(401);
    expect(await status(openai(late.key).models.list())).toBe(200);
    expect(await status(openai(lost.key).models.list())).toBe(200);
    expect((await s.usage(b.workspaceId)).keyActive).toBe(false);
    // A key the sync registered is as tight as its claim asked.
    expect((await s.usage(lost.workspaceId)).limits?.tokensPerDay).toBe(5);
  });
});

describe('LLM proxy', () => {
  test('streamed chunks are forwarded one by one as the provider writes them', async () => {
    const { key } = await s.register();
    const body = JSON.stringify({ model: 'gpt-fake', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const writesBefore = s.fake.chunkWrites.length;
    const arrivals: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: s.port,
          path: '/llm/openai/v1/chat/completions',
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        },
        (res) => {
          expect(res.headers['content-type']).toContain('text/event-stream');
          res.on('data', () => arrivals.push(performance.timeOrigin + performance.now()));
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    const writes = s.fake.chunkWrites.slice(writesBefore);
    expect(writes.length).toBeGreaterThanOrEqual(8);
    expect(arrivals.length).toBeGreaterThanOrEqual(writes.length - 1);
    // The first chunk reached the client long before the fake wrote its last one.
    expect(arrivals[0]!).toBeLessThan(writes.at(-1)! - CHUNK_DELAY_MS * 3);
    expect(arrivals[0]! - writes[0]!).toBeLessThan(CHUNK_DELAY_MS);
  });

  test('a client that leaves mid-stream aborts the provider request', async () => {
    const { key } = await s.register();
    const from = s.fake.chunkWrites.length;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: s.port, path: '/llm/openai/v1/chat/completions', method: 'POST', headers: { authorization: `Bearer ${key}` } },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', () => undefined);
      req.on('close', () => resolve());
      setTimeout(() => reject(new Error('no first chunk')), 5_000);
      req.end(JSON.stringify({ model: 'gpt-fake', stream: true, messages: [] }));
    });
    await new Promise((r) => setTimeout(r, CHUNK_DELAY_MS * 10));
    // The fake stops writing once its response is destroyed: far fewer than the 8 chunks of a whole answer.
    expect(s.fake.chunkWrites.length - from).toBeLessThanOrEqual(3);
  });

  test('a provider without a key → 503 in its format; absolute-form requests to egress itself are served too', async () => {
    const { key } = await s.register();
    const r = await raw(s.port, '/llm/anthropic/v1/messages', { body: '{}', headers: { 'x-api-key': key } });
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text)).toMatchObject({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('not configured') as string } });
    const viaProxy = await new Promise<number>((resolve, reject) => {
      httpRequest(
        { host: '127.0.0.1', port: s.port, path: `http://127.0.0.1:${s.port}/llm/openai/v1/models`, headers: { authorization: `Bearer ${key}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end();
    });
    expect(viaProxy).toBe(200);
  });

  test('egress never logged a key', () => {
    for (const secret of [s.openaiKey]) expect(s.egress.allOutput).not.toContain(secret);
    expect(s.egress.allOutput).not.toMatch(/bk_[A-Za-z0-9_-]{43}/);
  });
});
