import { ConfigError } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import { loadRepoCacheConfig } from '../src/config.js';

describe('repo-cache config', () => {
  it('has defaults for everything', () => {
    expect(loadRepoCacheConfig({})).toMatchObject({
      MIRRORS_DIR: '/var/lib/berth/mirrors',
      GITHUB_URL: 'https://github.com',
      REPO_FETCH_TIMEOUT_MS: 600_000,
      REPO_LOCK_TTL_MS: 30_000,
      REPO_LOCK_WAIT_MS: 900_000,
      REPO_CACHE_HEALTH_PORT: 9103,
    });
  });

  it('makes MIRRORS_DIR absolute', () => {
    expect(loadRepoCacheConfig({ MIRRORS_DIR: '.berth/mirrors' }).MIRRORS_DIR).toBe(`${process.cwd()}/.berth/mirrors`);
  });

  it('has no proxy unless set', () => {
    expect(loadRepoCacheConfig({}).EGRESS_PROXY_URL).toBeUndefined();
    expect(loadRepoCacheConfig({ EGRESS_PROXY_URL: 'http://127.0.0.1:3128' }).EGRESS_PROXY_URL).toBe('http://127.0.0.1:3128');
  });

  it('drops a trailing slash of GITHUB_URL and refuses non-http upstreams and proxies', () => {
    expect(loadRepoCacheConfig({ GITHUB_URL: 'http://127.0.0.1:9999/' }).GITHUB_URL).toBe('http://127.0.0.1:9999');
    expect(() => loadRepoCacheConfig({ GITHUB_URL: 'file:///etc' })).toThrow(/GITHUB_URL/);
    expect(() => loadRepoCacheConfig({ EGRESS_PROXY_URL: 'socks5://x:1' })).toThrow(ConfigError);
  });
});
