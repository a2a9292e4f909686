import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { natsPasswordVar, natsServices } from '@berth/contracts';
import { freePort, portRange, repoRoot } from '@berth/service-kit/testing';
import { docker } from './docker.js';

const run = promisify(execFile);

/** berth's services that run in the stack, in start order. */
const NODE_SERVICES = ['pool-manager', 'gateway', 'log-streamer', 'repo-cache', 'egress', 'image-builder'] as const;
/** Those whose code is on this checkout (scripts/stack starts the same set). */
export const presentServices = (): string[] => NODE_SERVICES.filter((s) => existsSync(join(repoRoot(), 'services', s, 'src', 'main.ts')));
/** Every container of the dev stack: infrastructure and the present services. */
export const devStackServices = (): string[] => ['nats', 'redis', ...presentServices()];
const secret = () => `s${randomBytes(16).toString('hex')}`;

/** A dev compose stack under its own project name, port, host id, network and credentials. */
export interface TestStack {
  project: string;
  hostId: string;
  url: string;
  token: string;
  env: Record<string, string>;
  /** Container id of a compose service. */
  container(service: string): Promise<string>;
  down(): Promise<void>;
}

export async function startDevStack(extraEnv: Record<string, string> = {}, opts: { prod?: boolean } = {}): Promise<TestStack> {
  const tag = randomBytes(4).toString('hex');
  const project = `berthtest${tag}`;
  const hostId = `t-${tag}`;
  const port = await freePort();
  const env: Record<string, string> = {
    BERTH_STACK_PROJECT: project,
    BERTH_HOST_ID: hostId,
    BERTH_PORT: String(port),
    WORKSPACE_NETWORK: `${project}-workspaces`,
    BERTH_API_TOKEN: randomBytes(24).toString('hex'),
    REDIS_PASSWORD_POOL_MANAGER: secret(),
    REDIS_PASSWORD_REPO_CACHE: secret(),
    REDIS_PASSWORD_EGRESS: secret(),
    NATS_ROUTE_PASSWORD: secret(),
    EGRESS_SECRET_KEY: secret(),
    WORKSPACE_NAME_KEY: secret(),
    LOG_LEVEL: 'warn',
    POOLS: JSON.stringify([{ name: 'default', targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 }]),
    PORT_RANGE: portRange().spec,
    ...Object.fromEntries(natsServices().map((s) => [natsPasswordVar(s), secret()])),
    ...extraEnv,
  };
  const stackCmd = async (...args: string[]) =>
    run(`${repoRoot()}/scripts/stack`, [...(opts.prod ? ['--prod'] : []), ...args], { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
  const down = async () => {
    await stackCmd('down').catch((err: unknown) => console.error('stack down failed', err));
    await docker('network', 'rm', env.WORKSPACE_NETWORK ?? '').catch(() => undefined);
  };
  try {
    await stackCmd('up');
  } catch (err) {
    await down();
    throw err;
  }
  return {
    project,
    hostId,
    env,
    down,
    url: `http://127.0.0.1:${port}`,
    token: env.BERTH_API_TOKEN ?? '',
    container: (service) =>
      docker('ps', '-q', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`),
  };
}
