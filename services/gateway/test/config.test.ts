import { ConfigError } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.js';

describe('config', () => {
  it('has the documented defaults', () => {
    const config = loadGatewayConfig({ BERTH_API_TOKEN: 'a'.repeat(16) });
    expect(config).toMatchObject({
      BERTH_PORT: 8080,
      BERTH_BIND: '127.0.0.1',
      BODY_LIMIT_BYTES: 1024 * 1024,
      REQUEST_TIMEOUT_MS: 30_000,
      NATS_URL: 'nats://127.0.0.1:4222',
    });
  });

  it('reads overrides', () => {
    const config = loadGatewayConfig({ BERTH_API_TOKEN: 'a'.repeat(16), BERTH_PORT: '9000', BODY_LIMIT_BYTES: '2048', REQUEST_TIMEOUT_MS: '5000' });
    expect(config).toMatchObject({ BERTH_PORT: 9000, BODY_LIMIT_BYTES: 2048, REQUEST_TIMEOUT_MS: 5000 });
  });

  it('requires a token', () => {
    expect(() => loadGatewayConfig({})).toThrow(ConfigError);
    expect(() => loadGatewayConfig({})).toThrow(/BERTH_API_TOKEN/);
  });

  it('refuses a short token without echoing it', () => {
    let message = '';
    try {
      loadGatewayConfig({ BERTH_API_TOKEN: 'short-secret' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/BERTH_API_TOKEN: must be at least 16 characters/);
    expect(message).not.toContain('short-secret');
  });

  it('refuses a bad port', () => {
    expect(() => loadGatewayConfig({ BERTH_API_TOKEN: 'a'.repeat(16), BERTH_PORT: '70000' })).toThrow(/BERTH_PORT/);
  });
});
