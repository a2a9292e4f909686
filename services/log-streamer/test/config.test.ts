import { ConfigError } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import { loadLogStreamerConfig } from '../src/config.js';

describe('log-streamer config', () => {
  it('has defaults for everything', () => {
    const c = loadLogStreamerConfig({});
    expect(c).toMatchObject({
      LOGS_MAX_AGE_SECONDS: 604_800,
      LOGS_MAX_BYTES: 1024 ** 3,
      LOGS_MAX_LINE_BYTES: 16_384,
      LOGS_RESCAN_INTERVAL_MS: 10_000,
      LOGS_RESUME_SLACK_MS: 2_000,
      LOGS_MAX_IN_FLIGHT: 1024,
      LOG_STREAMER_HEALTH_PORT: 9102,
      DOCKER_SOCKET: '/var/run/docker.sock',
      BERTH_HOST_ID: 'local',
    });
  });

  it('names each bad variable', () => {
    expect(() => loadLogStreamerConfig({ LOGS_MAX_LINE_BYTES: '10', LOGS_MAX_AGE_SECONDS: 'forever' })).toThrow(ConfigError);
    try {
      loadLogStreamerConfig({ LOGS_MAX_LINE_BYTES: '10', LOGS_MAX_AGE_SECONDS: 'forever' });
    } catch (err) {
      expect((err as Error).message).toMatch(/LOGS_MAX_LINE_BYTES/);
      expect((err as Error).message).toMatch(/LOGS_MAX_AGE_SECONDS/);
    }
  });
});
