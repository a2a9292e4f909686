import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { natsPasswordVar, natsServices } from '@berth/contracts';
import { repoRoot } from '@berth/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// Both compose files as compose renders them: every service's output is rotated by Docker
// (SERVICE_LOG_MAX_SIZE × SERVICE_LOG_MAX_FILES), and pool-manager passes the workspaces' rotation on.
interface Rendered {
  services: Record<string, { logging?: { driver?: string; options?: Record<string, string> }; environment?: Record<string, string> }>;
}

const run = promisify(execFile);

async function rendered(file: string, extra: Record<string, string>): Promise<Rendered> {
  const secrets = [
    'BERTH_API_TOKEN',
    'NATS_ROUTE_PASSWORD',
    'REDIS_PASSWORD_POOL_MANAGER',
    'REDIS_PASSWORD_REPO_CACHE',
    'REDIS_PASSWORD_EGRESS',
    'EGRESS_SECRET_KEY',
    'WORKSPACE_NAME_KEY',
    ...natsServices().map(natsPasswordVar),
  ];
  const env = { ...process.env, ...Object.fromEntries(secrets.map((s, i) => [s, `s${String(i).padStart(47, '0')}`])), ...extra };
  const bin = await run('docker-compose', ['version']).then(
    () => ['docker-compose'],
    () => ['docker', 'compose'],
  );
  const { stdout } = await run(bin[0] ?? 'docker', [...bin.slice(1), '-p', 'berthlogcheck', '-f', file, '--project-directory', '.', 'config'], {
    cwd: repoRoot(),
    env,
  });
  return parse(stdout) as Rendered;
}

describe.each(['docker-compose.dev.yml', 'infra/docker-compose.prod.yml'])('%s: logs that cannot fill the host', (file) => {
  it("rotates every service's json-file log, sizes configurable", async () => {
    const cfg = await rendered(file, { SERVICE_LOG_MAX_SIZE: '5m', SERVICE_LOG_MAX_FILES: '2', WORKSPACE_LOG_MAX_SIZE: '7m', WORKSPACE_LOG_MAX_FILES: '4' });
    const services = Object.entries(cfg.services);
    expect(services.length).toBeGreaterThanOrEqual(8);
    for (const [name, s] of services) expect(s.logging, name).toEqual({ driver: 'json-file', options: { 'max-size': '5m', 'max-file': '2' } });
    expect(cfg.services['pool-manager']?.environment).toMatchObject({ WORKSPACE_LOG_MAX_SIZE: '7m', WORKSPACE_LOG_MAX_FILES: '4' });
  });
});
