import { describe, expect, it } from 'vitest';
import { loadPoolManagerConfig } from '../src/config.js';
import { llmEnv, noProxyEnv } from '../src/llm/llm-env.js';
import type { SetupDeps, SetupRun } from '../src/setup/setup-context.js';
import { setupEnv } from '../src/setup/workspace-procs.js';

const KEY = `bk_${'a'.repeat(43)}`;

describe('LLM env of workspace commands', () => {
  it('points both SDKs at egress with the scoped key', () => {
    expect(llmEnv('http://172.18.0.1:3128/', KEY)).toEqual({
      OPENAI_BASE_URL: 'http://172.18.0.1:3128/llm/openai/v1',
      OPENAI_API_KEY: KEY,
      ANTHROPIC_BASE_URL: 'http://172.18.0.1:3128/llm/anthropic',
      ANTHROPIC_API_KEY: KEY,
    });
  });

  it("NO_PROXY for setup lists egress's host, after what the caller listed", () => {
    expect(noProxyEnv('http://egress:3128')).toEqual({ NO_PROXY: 'egress', no_proxy: 'egress' });
    expect(noProxyEnv('http://egress:3128', { NO_PROXY: 'localhost, 127.0.0.1' })).toEqual({
      NO_PROXY: 'localhost,127.0.0.1,egress',
      no_proxy: 'localhost,127.0.0.1,egress',
    });
    expect(noProxyEnv('http://egress:3128', { no_proxy: 'egress' }).NO_PROXY).toBe('egress');
    expect(noProxyEnv('')).toEqual({});
  });
});

describe('LLM config', () => {
  const base = { BERTH_HOST_ID: 'h1' };
  it('defaults the egress URL to SETUP_PROXY_URL, without a trailing slash', () => {
    expect(loadPoolManagerConfig({ ...base, SETUP_PROXY_URL: 'http://egress:3128/' }).LLM_EGRESS_URL).toBe('http://egress:3128');
    expect(loadPoolManagerConfig({ ...base, SETUP_PROXY_URL: 'http://egress:3128', LLM_EGRESS_URL: 'http://172.18.0.1:4000' }).LLM_EGRESS_URL).toBe(
      'http://172.18.0.1:4000',
    );
  });

  it('is off (empty) without any URL, with `none`, or when disabled', () => {
    expect(loadPoolManagerConfig(base).LLM_EGRESS_URL).toBe('');
    expect(loadPoolManagerConfig({ ...base, SETUP_PROXY_URL: 'http://egress:3128', LLM_EGRESS_URL: 'none' }).LLM_EGRESS_URL).toBe('');
    expect(loadPoolManagerConfig({ ...base, LLM_EGRESS_URL: 'http://egress:3128', LLM_KEYS_ENABLED: 'false' }).LLM_EGRESS_URL).toBe('');
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => loadPoolManagerConfig({ ...base, LLM_EGRESS_URL: 'ftp://egress' })).toThrow(/LLM_EGRESS_URL/);
  });
});

describe('setup processes', () => {
  const deps = (proxy: string, llm: string) => ({ config: { SETUP_PROXY_URL: proxy, LLM_EGRESS_URL: llm } }) as unknown as SetupDeps;
  const run = (envVars: Record<string, string> = {}) => ({ body: { envVars } }) as unknown as SetupRun;

  it("go through the proxy, except to egress's LLM base URL", () => {
    const env = setupEnv(deps('http://egress:3128', 'http://egress:3128'), run({ NO_PROXY: 'localhost' }));
    expect(env).toMatchObject({ HTTP_PROXY: 'http://egress:3128', NO_PROXY: 'localhost,egress', no_proxy: 'localhost,egress' });
  });

  it('without a proxy, or with LLM keys off, no NO_PROXY is added', () => {
    expect(setupEnv(deps('', 'http://egress:3128'), run())).not.toHaveProperty('NO_PROXY');
    expect(setupEnv(deps('http://egress:3128', ''), run())).not.toHaveProperty('NO_PROXY');
  });
});
