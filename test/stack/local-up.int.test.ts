import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectNats, createLogger, createRedis } from '@berth/service-kit';
import { freePort, portRange, repoRoot } from '@berth/service-kit/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';

// `scripts/up` itself, on random ports with an env file and state directory of its own (beside any
// berth of the developer's): bootstrap fills in the env file's secrets, every service comes up and
// the gateway answers /health, its NATS and Redis refuse anonymous clients, and SIGTERM stops
// everything it started.
const root = repoRoot();
const dir = mkdtempSync(join(tmpdir(), 'berth-up-'));
const envFile = join(dir, 'env');
const state = join(dir, 'state');
const network = `berth-up-${randomBytes(3).toString('hex')}`;
const logger = createLogger('local-up-test', 'silent');
const ports: Record<string, number> = {};
let up: ChildProcess;
let output = '';
let exited: Promise<number | null>;

beforeAll(async () => {
  for (const name of [
    'BERTH_PORT',
    'NATS_PORT',
    'NATS_MONITOR_PORT',
    'REDIS_PORT',
    'HEALTH_PORT',
    'LOG_STREAMER_HEALTH_PORT',
    'REPO_CACHE_HEALTH_PORT',
    'IMAGE_BUILDER_HEALTH_PORT',
    'EGRESS_HEALTH_PORT',
    'EGRESS_PROXY_PORT',
  ])
    ports[name] = await freePort();
  const { lo } = portRange();
  const settings = {
    ...ports,
    BERTH_HOST_ID: `up-${randomBytes(3).toString('hex')}`,
    WORKSPACE_NETWORK: network,
    PORT_RANGE: `${lo}-${lo + 49}`,
    POOLS: `'${JSON.stringify([{ name: 'default', targetSize: 0, minSize: 0 }])}'`,
    LOG_LEVEL: 'warn',
    NPM_CACHE_VOLUME: 'none',
  };
  writeFileSync(
    envFile,
    Object.entries(settings)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    { mode: 0o600 },
  );
  up = spawn(join(root, 'scripts', 'up'), [], {
    cwd: root,
    env: { ...process.env, BERTH_ENV_FILE: envFile, BERTH_STATE: state },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const s of [up.stdout, up.stderr])
    s?.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-6000);
    });
  exited = new Promise((resolve) => up.once('exit', (code) => resolve(code)));
}, 10_000);

afterAll(async () => {
  if (up.exitCode === null && up.signalCode === null) up.kill('SIGTERM');
  await exited;
  // Removes the firewall rules when the test failed before its own scripts/down.
  spawnSync(join(root, 'scripts', 'down'), [], { cwd: root, env: { ...process.env, BERTH_STATE: state }, stdio: 'ignore' });
  spawn('docker', ['network', 'rm', network], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('scripts/up serves /health on its own ports, with NATS and Redis that refuse anonymous clients, and SIGTERM stops all it started', async () => {
  const gateway = `http://127.0.0.1:${ports.BERTH_PORT}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (up.exitCode !== null) throw new Error(`scripts/up exited with ${up.exitCode}:\n${output}`);
    const ok = await fetch(`${gateway}/health`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`no /health in 90 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  // bootstrap generated the secrets into the test's env file, and the API takes its token.
  const token = /^BERTH_API_TOKEN=(.+)$/m.exec(readFileSync(envFile, 'utf8'))?.[1];
  expect(token).toMatch(/^s[0-9a-f]{48}$/);
  const pools = await fetch(`${gateway}/api/pools`, { headers: { authorization: `Bearer ${token}` } });
  expect(pools.status).toBe(200);

  const anonymous = await connectNats({ url: `nats://127.0.0.1:${ports.NATS_PORT}`, name: 'anonymous', logger }).then(
    async (nc) => {
      await nc.close();
      return 'accepted';
    },
    (err: unknown) => String(err),
  );
  expect(anonymous).toMatch(/authorization/i);
  const redis = createRedis({ url: `redis://127.0.0.1:${ports.REDIS_PORT}`, name: 'anonymous', logger });
  try {
    await expect(redis.set('berth:host:x', '1')).rejects.toThrow(/NOPERM/);
  } finally {
    redis.disconnect();
  }

  up.kill('SIGTERM');
  expect(await exited).not.toBe(0); // 143: stopped by the signal, after cleanup
  // The workspaces' firewall rules outlive `up` (its workspaces do too) until scripts/down removes them.
  expect(readdirSync(join(state, 'run'))).toEqual(['firewall']);
  expect(
    await fetch(`${gateway}/health`).then(
      () => 'answered',
      () => 'refused',
    ),
  ).toBe('refused');
  expect(existsSync(join(state, 'logs', 'gateway.log'))).toBe(true);
  execFileSync(join(root, 'scripts', 'down'), [], { cwd: root, env: { ...process.env, BERTH_STATE: state }, stdio: 'ignore' });
  expect(readdirSync(join(state, 'run'))).toEqual([]);
}, 150_000);
