import { newBerthKey } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, startLlmStack, type LlmStack } from './llm-helpers.js';

// Anthropic is not configured on this egress; OpenAI is.
let s: LlmStack;
beforeAll(async () => {
  s = await startLlmStack({ LLM_ANTHROPIC_API_KEY: '' });
}, 60_000);
afterAll(async () => {
  await s?.close();
});

const BODY = JSON.stringify({ model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
const messages = (headers: Record<string, string>) =>
  raw(s.port, '/llm/anthropic/v1/messages', { headers: { 'content-type': 'application/json', ...headers }, body: BODY });

describe('egress checks the scoped key before anything else', () => {
  it('a missing, forged or revoked key is 401 on a provider that is not configured', async () => {
    const { workspaceId, key: revoked } = await s.register();
    expect(await s.revoke(workspaceId)).toBe(true);
    for (const [what, headers] of [
      ['missing', {}],
      ['malformed', { 'x-api-key': 'sk-not-a-berth-key' }],
      ['forged', { 'x-api-key': newBerthKey() }],
      ['revoked', { 'x-api-key': revoked }],
      ['forged, as a bearer', { authorization: `Bearer ${newBerthKey()}` }],
    ] as [string, Record<string, string>][]) {
      const r = await messages(headers);
      expect(r.status, `${what}: ${r.text}`).toBe(401);
      expect(r.text).not.toContain('not configured');
    }
  });

  it('a valid key on that provider hears it is not configured (503), and spends none of its limits', async () => {
    const { key } = await s.register({ limits: { requestsPerMinute: 1 } });
    for (let i = 0; i < 3; i++) {
      const r = await messages({ 'x-api-key': key });
      expect(r.status, r.text).toBe(503);
      expect(r.text).toContain('not configured');
    }
    // Its one request a minute is still there for a configured provider.
    const ok = await raw(s.port, '/llm/openai/v1/chat/completions', {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(ok.status, ok.text).toBe(200);
  });
});
