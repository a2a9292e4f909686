import { describe, expect, it } from 'vitest';
import { renderCompose } from './compose-config.js';

// Both compose files as compose renders them: every service's output is rotated by Docker
// (SERVICE_LOG_MAX_SIZE × SERVICE_LOG_MAX_FILES), and pool-manager passes the workspaces' rotation on.
interface Rendered {
  services: Record<string, { logging?: { driver?: string; options?: Record<string, string> }; environment?: Record<string, string> }>;
}

const rendered = async (file: string, extra: Record<string, string>) => (await renderCompose('berthlogcheck', [file], extra)) as Rendered;

describe.each(['docker-compose.dev.yml', 'infra/docker-compose.prod.yml'])('%s: logs that cannot fill the host', (file) => {
  it("rotates every service's json-file log, sizes configurable", async () => {
    const cfg = await rendered(file, { SERVICE_LOG_MAX_SIZE: '5m', SERVICE_LOG_MAX_FILES: '2', WORKSPACE_LOG_MAX_SIZE: '7m', WORKSPACE_LOG_MAX_FILES: '4' });
    const services = Object.entries(cfg.services);
    expect(services.length).toBeGreaterThanOrEqual(8);
    for (const [name, s] of services) expect(s.logging, name).toEqual({ driver: 'json-file', options: { 'max-size': '5m', 'max-file': '2' } });
    expect(cfg.services['pool-manager']?.environment).toMatchObject({ WORKSPACE_LOG_MAX_SIZE: '7m', WORKSPACE_LOG_MAX_FILES: '4' });
  });
});
