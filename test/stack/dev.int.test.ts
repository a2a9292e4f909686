import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, portRange, repoRoot } from '@berth/service-kit/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { removeHostContainers } from '../support/local-stack.js';

// `pnpm dev`: scripts/up --watch, every service a host process that restarts when a file it
// loaded changes. Its own settings file (ports, host id) and state directory, so it runs beside
// a developer's own berth.
const run = promisify(execFile);
const SERVICES = ['image-builder', 'repo-cache', 'pool-manager', 'egress', 'log-streamer', 'gateway'];
const hostId = `dev-${randomBytes(4).toString('hex')}`;
const token = randomBytes(24).toString('hex');
let state: string;
let dev: ChildProcess;
let output = '';
let url: string;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pidOf = async (name: string) => Number((await readFile(join(state, 'run', `${name}.pid`), 'utf8')).split(' ')[0]);
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; pnpm dev said:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
const healthy = () =>
  fetch(`${url}/health`).then(
    (r) => r.ok,
    () => false,
  );

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'berth-dev-'));
  const [nats, natsMonitor, redis, gateway, proxy] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const { lo } = portRange();
  url = `http://127.0.0.1:${gateway}`;
  const settings = {
    BERTH_HOST_ID: hostId,
    LOG_LEVEL: 'warn',
    BERTH_API_TOKEN: token,
    EGRESS_SECRET_KEY: randomBytes(32).toString('hex'),
    NATS_PORT: nats,
    NATS_MONITOR_PORT: natsMonitor,
    REDIS_PORT: redis,
    BERTH_PORT: gateway,
    BERTH_BIND: '127.0.0.1',
    EGRESS_PROXY_PORT: proxy,
    HEALTH_PORT: 0,
    LOG_STREAMER_HEALTH_PORT: 0,
    REPO_CACHE_HEALTH_PORT: 0,
    EGRESS_HEALTH_PORT: 0,
    IMAGE_BUILDER_HEALTH_PORT: 0,
    POOLS: `'${JSON.stringify([{ name: 'default', targetSize: 1, memoryMb: 64, pids: 64 }])}'`,
    PORT_RANGE: `${lo}-${lo + 99}`,
    MAX_CONTAINERS: 3,
  };
  await writeFile(
    join(state, 'env'),
    Object.entries(settings)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  dev = spawn('pnpm', ['dev'], {
    cwd: repoRoot(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BERTH_ENV_FILE: join(state, 'env'), BERTH_STATE: state },
  });
  dev.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  dev.stderr!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  await until('[up] berth is running', () => output.includes('[up] berth is running') || dev.exitCode !== null, 240_000);
  expect(dev.exitCode, output).toBeNull();
}, 300_000);
afterAll(async () => {
  try {
    if (dev?.pid) process.kill(-dev.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  // After a failure midway, whatever its pid files still name (the services run in sessions of their own).
  if (state) await run(join(repoRoot(), 'scripts', 'down'), [], { env: { ...process.env, BERTH_STATE: state }, timeout: 120_000 }).catch(() => undefined);
  removeHostContainers(hostId);
  if (state) await rm(state, { recursive: true, force: true });
});

test('pnpm dev serves the API, restarts a service whose source changed, and Ctrl-C stops every process it started', async () => {
  expect(await healthy()).toBe(true);
  const pools = await fetch(`${url}/api/pools`, { headers: { authorization: `Bearer ${token}` } });
  expect(pools.status).toBe(200);
  const pids = Object.fromEntries(await Promise.all([...SERVICES, 'nats', 'redis'].map(async (s) => [s, await pidOf(s)] as const)));

  // A saved file restarts the services that loaded it, in place (same supervising pid).
  const log = join(state, 'logs', 'gateway.log');
  const source = join(repoRoot(), 'services', 'gateway', 'src', 'main.ts');
  const now = new Date();
  await utimes(source, now, now);
  await until('the gateway to restart', async () => (await readFile(log, 'utf8')).includes('Restarting'), 30_000);
  await until('the restarted gateway to answer', healthy, 60_000);
  expect(await pidOf('gateway')).toBe(pids.gateway);

  // Ctrl-C (SIGINT to the foreground group): everything stops, nothing is left running.
  process.kill(-dev.pid!, 'SIGINT');
  await until('pnpm dev to exit', () => dev.exitCode !== null || dev.signalCode !== null, 90_000);
  await until('every process it started to stop', () => Object.values(pids).every((pid) => !alive(pid)), 30_000);
  expect(await healthy()).toBe(false);
}, 240_000);
