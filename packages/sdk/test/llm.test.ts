import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { Berth, BerthAbortError, BerthApiError, BerthTimeoutError, type LlmUsage, type Usage } from '../src/index.js';
import { usageText } from '../src/cli/commands/usage.js';
import { berthCli } from './cli.js';
import { FakeGateway, VIEW, apiError } from './fake-gateway.js';

let fake: FakeGateway;
beforeAll(async () => {
  fake = await FakeGateway.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.seen.length = 0;
});

const LLM: LlmUsage = {
  requests: 4,
  inputTokens: 120,
  outputTokens: 80,
  costUsd: 0.0123,
  keyActive: true,
  byProvider: { openai: { requests: 3, inputTokens: 100, outputTokens: 60, costUsd: 0.01 } },
  today: { tokens: 200, costUsd: 0.0123 },
  limits: { requestsPerMinute: 60, tokensPerDay: 100_000, spendCapUsdPerDay: 2 },
};
const SAMPLE: Usage = {
  id: VIEW.id,
  at: '2026-11-23T14:00:00.000Z',
  cpuPercent: 12.5,
  memoryBytes: 73_400_320,
  memoryLimitBytes: 536_870_912,
  pids: 7,
  netRxBytes: 10,
  netTxBytes: 20,
  llm: LLM,
};
const berth = () => new Berth({ url: fake.url, apiKey: 'k' });

describe('SDK: LLM keys and usage', () => {
  test('create sends the llm limits in the body', async () => {
    fake.replies([201, { ...VIEW, warm: true }]);
    await berth().containers.create({ llm: { requestsPerMinute: 5, spendCapUsdPerDay: 1.5 } });
    expect(JSON.parse(fake.seen[0]!.body)).toEqual({ llm: { requestsPerMinute: 5, spendCapUsdPerDay: 1.5 } });
  });

  test('container.llmKey.revoke() is DELETE, .rotate() is POST on /llm-key', async () => {
    fake.replies([201, { ...VIEW, warm: true }], [200, { id: VIEW.id, llmKey: 'revoked' }], [200, { id: VIEW.id, llmKey: 'active' }]);
    const c = await berth().containers.create();
    expect(await c.llmKey.revoke()).toEqual({ id: VIEW.id, llmKey: 'revoked' });
    expect(await c.llmKey.rotate()).toEqual({ id: VIEW.id, llmKey: 'active' });
    expect(fake.seen.slice(1).map((s) => `${s.method} ${s.url}`)).toEqual([
      `DELETE /api/containers/${VIEW.id}/llm-key`,
      `POST /api/containers/${VIEW.id}/llm-key`,
    ]);
  });

  test('errors are typed; timeoutMs and signal apply', async () => {
    fake.replies([503, apiError('SERVICE_UNAVAILABLE', true)]);
    const err = await berth()
      .containers.llmKey(VIEW.id, 'rotate')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthApiError);
    expect((err as BerthApiError).code).toBe('SERVICE_UNAVAILABLE');

    fake.handler = () => {
      /* never answers */
    };
    await expect(berth().containers.llmKey(VIEW.id, 'revoke', { timeoutMs: 200 })).rejects.toBeInstanceOf(BerthTimeoutError);
    const ac = new AbortController();
    const pending = berth().containers.llmKey(VIEW.id, 'rotate', { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(BerthAbortError);
  });

  test('usage carries llm when the gateway sends it', async () => {
    fake.replies([200, SAMPLE]);
    const u = await berth().containers.usage(VIEW.id);
    expect(u.llm).toEqual(LLM);
    expect(fake.seen[0]?.url).toBe(`/api/containers/${VIEW.id}/usage`);
  });
});

describe('CLI: berth usage, berth llm-key', () => {
  const env = () => ({ BERTH_URL: fake.url, BERTH_API_KEY: 'k-cli-test-0123456789', HOME: '/nonexistent' });

  test('usage prints CPU, memory, pids, network and LLM figures and limits', async () => {
    fake.replies([200, SAMPLE]);
    const r = await berthCli(['usage', VIEW.id], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('12.5%');
    expect(r.stdout).toContain('70.0 MiB / 512.0 MiB');
    expect(r.stdout).toMatch(/PIDS\s+7/);
    expect(r.stdout).toContain('rx 10 B, tx 20 B');
    expect(r.stdout).toContain('4 requests, 120 in / 80 out tokens, $0.0123 (key active)');
    expect(r.stdout).toMatch(/openai\s+3 requests, 100 in \/ 60 out tokens/);
    expect(r.stdout).toContain('60 requests/min, 100000 tokens/day, $2.0000/day');
  }, 30_000);

  test('usage --json is the API answer; without llm the text says egress did not answer', async () => {
    fake.replies([200, SAMPLE]);
    const r = await berthCli(['usage', '--json', VIEW.id], env());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(SAMPLE);
    const { llm: _llm, ...withoutLlm } = SAMPLE;
    expect(usageText(withoutLlm)).toContain('egress did not answer');
    expect(usageText({ ...SAMPLE, llm: { ...LLM, keyActive: false, limits: null } })).toMatch(/key revoked[\s\S]*limits\s+none/);
  }, 30_000);

  test('llm-key revoke and rotate call the API and print the state', async () => {
    fake.replies([200, { id: VIEW.id, llmKey: 'revoked' }]);
    const revoked = await berthCli(['llm-key', 'revoke', VIEW.id], env());
    expect(revoked).toMatchObject({ code: 0, stdout: `${VIEW.id}  llm key revoked\n` });
    fake.replies([200, { id: VIEW.id, llmKey: 'active' }]);
    const rotated = await berthCli(['llm-key', 'rotate', '--json', VIEW.id], env());
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toEqual({ id: VIEW.id, llmKey: 'active' });
    expect(fake.seen.map((s) => s.method)).toEqual(['DELETE', 'POST']);
  }, 30_000);

  test('bad invocations are usage errors (exit 2) that reach nothing; API errors exit 1', async () => {
    for (const args of [['llm-key', 'erase', VIEW.id], ['llm-key', 'revoke'], ['usage'], ['usage', VIEW.id, 'extra']]) {
      const r = await berthCli(args, env());
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect(fake.seen).toHaveLength(0);
    fake.replies([404, apiError('CONTAINER_NOT_FOUND', false)]);
    const missing = await berthCli(['llm-key', 'rotate', VIEW.id], env());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('CONTAINER_NOT_FOUND');
  }, 60_000);
});
