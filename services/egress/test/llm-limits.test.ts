import { createLogger } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import { loadEgressConfig } from '../src/config.js';
import { PriceTable } from '../src/llm/prices.js';
import { effectiveLimits } from '../src/llm/store.js';

const defaults = { requestsPerMinute: 60, tokensPerDay: 1000, spendCapUsdPerDay: 0 };

describe('effective limits', () => {
  it('are the defaults when the caller sets none', () => {
    expect(effectiveLimits(defaults, undefined)).toEqual({ requestsPerMinute: 60, tokensPerDay: 1000, spendCapUsdPerDay: null });
  });
  it('let a caller tighten, never loosen', () => {
    expect(effectiveLimits(defaults, { requestsPerMinute: 10, tokensPerDay: 5000, spendCapUsdPerDay: 3 })).toEqual({
      requestsPerMinute: 10,
      tokensPerDay: 1000,
      spendCapUsdPerDay: 3,
    });
    expect(effectiveLimits({ ...defaults, spendCapUsdPerDay: 2 }, { spendCapUsdPerDay: 3 }).spendCapUsdPerDay).toBe(2);
    expect(effectiveLimits({ ...defaults, spendCapUsdPerDay: 2 }, { spendCapUsdPerDay: 0.5 }).spendCapUsdPerDay).toBe(0.5);
    expect(effectiveLimits({ ...defaults, spendCapUsdPerDay: 2 }, undefined).spendCapUsdPerDay).toBe(2);
  });
});

describe('price table', () => {
  const logs: string[] = [];
  const logger = createLogger('t', 'warn', { write: (l: string) => logs.push(l) });
  const table = new PriceTable(
    {
      'gpt-4o*': { inputPerMTok: 2.5, outputPerMTok: 10 },
      'gpt-4o-mini*': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
      'claude-x': { inputPerMTok: 3, outputPerMTok: 15 },
    },
    logger,
  );

  it('prices exact names, then the longest prefix', () => {
    expect(table.cost('claude-x', 1_000_000, 1_000_000)).toBe(18);
    expect(table.cost('gpt-4o-2024-08-06', 2_000_000, 0)).toBe(5);
    expect(table.cost('gpt-4o-mini-2024', 1_000_000, 1_000_000)).toBeCloseTo(0.75, 10);
    expect(table.cost('claude-x-2', 10, 10)).toBe(0);
  });
  it('counts unpriced models 0 and warns once per model', () => {
    expect(table.cost('unknown', 5, 5)).toBe(0);
    expect(table.cost('unknown', 5, 5)).toBe(0);
    expect(logs.filter((l) => l.includes('"model":"unknown"'))).toHaveLength(1);
  });
});

describe('LLM config', () => {
  const KEY = { EGRESS_SECRET_KEY: 'x'.repeat(32) };
  it('has documented defaults', () => {
    expect(loadEgressConfig(KEY)).toMatchObject({
      LLM_OPENAI_BASE_URL: 'https://api.openai.com/v1',
      LLM_OPENAI_API_KEY: '',
      LLM_ANTHROPIC_BASE_URL: 'https://api.anthropic.com',
      LLM_ANTHROPIC_API_KEY: '',
      LLM_MAX_BODY_BYTES: 32 * 1024 * 1024,
      LLM_UPSTREAM_TIMEOUT_MS: 600_000,
      LLM_WORKSPACE_REQUESTS_PER_MINUTE: 60,
      LLM_WORKSPACE_TOKENS_PER_DAY: 2_000_000,
      LLM_WORKSPACE_SPEND_CAP_USD_PER_DAY: 0,
      LLM_OWNER_REQUESTS_PER_MINUTE: 600,
      LLM_OWNER_TOKENS_PER_DAY: 20_000_000,
      LLM_OWNER_SPEND_CAP_USD_PER_DAY: 0,
      LLM_PRICES: {},
    });
  });
  it('refuses a bad price table or base URL with a readable message, never echoing a key', () => {
    expect(() => loadEgressConfig({ ...KEY, LLM_PRICES: '{"m": {"inputPerMTok": -1, "outputPerMTok": 1}}' })).toThrow(/LLM_PRICES/);
    expect(() => loadEgressConfig({ ...KEY, LLM_PRICES: 'nope' })).toThrow(/LLM_PRICES: is not valid JSON/);
    try {
      loadEgressConfig({ ...KEY, LLM_OPENAI_BASE_URL: 'ftp://x', LLM_OPENAI_API_KEY: 'sk-real-secret' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/LLM_OPENAI_BASE_URL/);
      expect((err as Error).message).not.toContain('sk-real-secret');
    }
  });
  it('the logger redacts the real keys by name', () => {
    const lines: string[] = [];
    createLogger('t', 'info', { write: (l: string) => lines.push(l) }).info(
      { LLM_OPENAI_API_KEY: 'sk-1', cfg: { LLM_ANTHROPIC_API_KEY: 'sk-2' }, headers: { 'x-api-key': 'bk_3' } },
      'x',
    );
    expect(lines.join('')).not.toMatch(/sk-1|sk-2|bk_3/);
  });
});
