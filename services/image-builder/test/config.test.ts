import { ConfigError } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import { loadImageBuilderConfig } from '../src/config.js';

describe('image-builder config', () => {
  it('has defaults for everything', () => {
    expect(loadImageBuilderConfig({})).toMatchObject({
      BUILD_CONCURRENCY: 2,
      BUILD_TIMEOUT_MS: 600_000,
      BUILD_MAX_ATTEMPTS: 5,
      BUILD_ACK_WAIT_MS: 60_000,
      IMAGE_BUILDER_HEALTH_PORT: 9104,
      DOCKER_SOCKET: '/var/run/docker.sock',
      BERTH_HOST_ID: 'local',
    });
  });

  it('names each bad variable', () => {
    const bad = { BUILD_CONCURRENCY: '0', BUILD_TIMEOUT_MS: 'soon' };
    expect(() => loadImageBuilderConfig(bad)).toThrow(ConfigError);
    expect(() => loadImageBuilderConfig(bad)).toThrow(/BUILD_CONCURRENCY[\s\S]*BUILD_TIMEOUT_MS/);
  });

  it('gives builds a proxy only on a network that can reach it, and only an http:// one', () => {
    const proxy = 'http://172.30.0.1:3128';
    expect(() => loadImageBuilderConfig({ TEMPLATE_BUILD_PROXY_URL: proxy })).toThrow(/TEMPLATE_BUILD_PROXY_URL[\s\S]*TEMPLATE_BUILD_NETWORK=none/);
    expect(loadImageBuilderConfig({ TEMPLATE_BUILD_NETWORK: 'berth-workspaces', TEMPLATE_BUILD_PROXY_URL: proxy })).toMatchObject({
      TEMPLATE_BUILD_NETWORK: 'berth-workspaces',
      TEMPLATE_BUILD_PROXY_URL: proxy,
    });
    expect(() => loadImageBuilderConfig({ TEMPLATE_BUILD_NETWORK: 'berth-workspaces', TEMPLATE_BUILD_PROXY_URL: 'socks5://x:1' })).toThrow(
      /TEMPLATE_BUILD_PROXY_URL/,
    );
  });
});
