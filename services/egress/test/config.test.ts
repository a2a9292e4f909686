import { ConfigError } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALLOW_HOSTS, loadEgressConfig } from '../src/config.js';

const KEY = { EGRESS_SECRET_KEY: 'x'.repeat(32) };

describe('egress config', () => {
  it('has defaults for everything but the secret key', () => {
    expect(loadEgressConfig(KEY)).toMatchObject({
      EGRESS_PROXY_PORT: 3128,
      EGRESS_PROXY_BIND: '127.0.0.1',
      EGRESS_ALLOW_HOSTS: DEFAULT_ALLOW_HOSTS,
      GITHUB_URL: 'https://github.com',
      CALLBACK_ALLOW_CIDRS: '',
      CALLBACK_TTL_SECONDS: 86_400,
      CALLBACK_RETRY_BASE_MS: 500,
      CALLBACK_MAX_ATTEMPTS: 8,
      CALLBACK_TIMEOUT_MS: 10_000,
      CALLBACK_DELIVERY_ENABLED: true,
      EGRESS_HEALTH_PORT: 9105,
    });
  });

  it('requires EGRESS_SECRET_KEY and never echoes it', () => {
    expect(() => loadEgressConfig({})).toThrow(/EGRESS_SECRET_KEY: is required/);
    expect(() => loadEgressConfig({ EGRESS_SECRET_KEY: 'short-secret' })).toThrow(ConfigError);
    try {
      loadEgressConfig({ EGRESS_SECRET_KEY: 'short-secret' });
    } catch (err) {
      expect((err as Error).message).toMatch(/EGRESS_SECRET_KEY: must be at least 32/);
      expect((err as Error).message).not.toContain('short-secret');
    }
  });

  it('names each bad list entry', () => {
    const bad = () => loadEgressConfig({ ...KEY, EGRESS_ALLOW_HOSTS: 'github.com,https://x', CALLBACK_ALLOW_CIDRS: '127.0.0.1', GITHUB_URL: 'ftp://x' });
    expect(bad).toThrow(/EGRESS_ALLOW_HOSTS: "https:\/\/x"/);
    expect(bad).toThrow(/CALLBACK_ALLOW_CIDRS: "127.0.0.1" is not a CIDR/);
    expect(bad).toThrow(/GITHUB_URL/);
  });
});
