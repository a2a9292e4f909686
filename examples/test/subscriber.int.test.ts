import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENTS, type SetupStatus } from '@berth/contracts';
import { connectNats, createLogger, drainNats, request, type NatsConnection } from '@berth/service-kit';
import { startRedisServer, type ServerProcess } from '@berth/service-kit/testing';
import { jetStreamSetupEvents } from '@berth/pool-manager';
import { nkeys } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { docker, removeAllOf, startInProcess, testHostEnv, type RunningPoolManager } from '../../services/pool-manager/test/harness.js';
import { waitForWarm } from '../../services/pool-manager/test/helpers.js';
import { startNatsWithUsers, type AuthNats } from '../../test/support/nats-auth.js';

// examples/subscriber.ts copied into a directory outside the repository next to nothing but the
// public @nats-io packages, run by plain Node (berth's, which strips the types) as an outside system with its own NATS user
// (an nkey) against a nats-server with berth's generated users, while a real pool-manager
// (its own NATS user) claims, execs in and deletes a workspace. Killed with SIGKILL midway and
// restarted, it misses no event, resumes instead of starting over, and every event names the owner.
const OWNER = 'alice';
const watcherKeys = nkeys.createUser();
const logger = createLogger('example-test', 'silent');
let nats: AuthNats;
let redis: ServerProcess & { url: string };
let pm: RunningPoolManager | undefined;
let gateway: NatsConnection;
let asPoolManager: NatsConnection;
let outside: string;
// A workspace network of its own (pool-manager makes it), so other runs' containers on the default one do not matter.
const network = `berth-ws-example-${process.pid}`;
const hostEnv = testHostEnv({
  WORKSPACE_NETWORK: network,
  POOLS: JSON.stringify([{ name: 'default', targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 }]),
});

beforeAll(async () => {
  nats = await startNatsWithUsers([{ name: 'watcher', nkey: watcherKeys.getPublicKey() }]);
  redis = await startRedisServer();
  pm = await startInProcess(
    { nats: Object.assign(nats.server, { url: nats.url }), redis, dispose: async () => undefined },
    { ...hostEnv, NATS_USER: 'pool-manager', NATS_PASSWORD: nats.passwords['pool-manager'] },
  );
  // A gateway whose placement chose this host.
  gateway = await connectNats({
    url: nats.url,
    name: 'test-gateway',
    user: 'gateway',
    password: nats.passwords.gateway,
    hostId: hostEnv.BERTH_HOST_ID!,
    logger,
  });
  asPoolManager = await connectNats({ url: nats.url, name: 'test-pool-manager', user: 'pool-manager', password: nats.passwords['pool-manager'], logger });
  // Outside the repository: the example and the public packages it imports, nothing of berth.
  outside = mkdtempSync(join(tmpdir(), 'berth-subscriber-'));
  copyFileSync(fileURLToPath(new URL('../subscriber.ts', import.meta.url)), join(outside, 'subscriber.ts'));
  writeFileSync(join(outside, 'package.json'), JSON.stringify({ name: 'outside', private: true, type: 'module' }));
  mkdirSync(join(outside, 'node_modules', '@nats-io'), { recursive: true });
  for (const pkg of ['jetstream', 'transport-node']) {
    symlinkSync(realpathSync(fileURLToPath(new URL(`../node_modules/@nats-io/${pkg}`, import.meta.url))), join(outside, 'node_modules', '@nats-io', pkg));
  }
}, 120_000);
afterAll(async () => {
  if (gateway) await drainNats(gateway);
  if (asPoolManager) await drainNats(asPoolManager);
  await pm?.stop();
  await removeAllOf(hostEnv.BERTH_HOST_ID!);
  await docker
    .getNetwork(network)
    .remove()
    .catch(() => undefined);
  await redis?.dispose();
  await nats?.server.dispose();
  if (outside) rmSync(outside, { recursive: true, force: true });
});

interface Line {
  seq: number;
  subject: string;
  type: string;
  event: { id: string; kind?: string; phase?: string; owner?: string };
}

class Subscriber {
  readonly lines: Line[] = [];
  readonly child: ChildProcess;
  stderr = '';
  constructor() {
    this.child = spawn(process.execPath, ['subscriber.ts'], {
      cwd: outside,
      env: { PATH: process.env.PATH ?? '', NATS_URL: nats.url, BERTH_SUBSCRIBER: 'watcher', NATS_NKEY_SEED: new TextDecoder().decode(watcherKeys.getSeed()) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const p of parts) this.lines.push(JSON.parse(p) as Line);
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
  }

  async until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`subscriber never ${what}; stderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}

const keyOf = (l: Line) => `${l.type}:${l.event.kind ?? l.event.phase}`;

test('an outside subscriber with its own user sees claim, setup and delete with the owner, across a SIGKILL', async () => {
  await waitForWarm(gateway, 1);
  const first = new Subscriber();
  await first.until(() => first.stderr.includes('following'), 'started');
  const ws = await request(gateway, 'containerCreate', { requestId: `req-example-${Date.now()}`, owner: OWNER, pool: 'default' });
  const ofWs = (s: Subscriber) => s.lines.filter((l) => l.event.id === ws.id);
  await first.until(() => ofWs(first).some((l) => l.event.kind === 'claimed'), 'printed the claim');
  expect((await request(gateway, 'containerExec', { id: ws.id, owner: OWNER, command: 'echo hi', timeoutMs: 10_000 })).stdout).toBe('hi\n');
  await first.kill('SIGKILL');

  // While it is down: setup statuses through pool-manager's own publisher (as its NATS user), then the delete.
  const setupEvents = jetStreamSetupEvents(asPoolManager, logger);
  const at = new Date().toISOString();
  const base: SetupStatus = { id: ws.id, seq: 1, phase: 'queued', repo: 'acme/app', branch: 'main', at, startedAt: at, durations: {} };
  for (const [i, phase] of (['queued', 'cloning', 'ready'] as const).entries()) await setupEvents.publish({ ...base, seq: i + 1, phase }, OWNER);
  await request(gateway, 'containerDelete', { id: ws.id, owner: OWNER });

  const second = new Subscriber();
  await second.until(() => ofWs(second).some((l) => l.event.kind === 'removed'), 'printed the removal');
  await new Promise((r) => setTimeout(r, 300));
  await second.kill('SIGTERM');

  const seen = [...ofWs(first), ...ofWs(second)];
  // The claim onwards (the pool filled the container before anyone owned it).
  const fromClaim = seen.slice(seen.findIndex((l) => l.event.kind === 'claimed'));
  expect([...new Set(fromClaim.map(keyOf))]).toEqual(['container:claimed', 'setup:queued', 'setup:cloning', 'setup:ready', 'container:removed']);
  expect(fromClaim.every((l) => l.event.owner === OWNER)).toBe(true);
  expect(fromClaim.every((l) => l.subject.startsWith('berth.evt.'))).toBe(true);
  expect(seen.filter((l) => l.type === 'unknown' || l.type === 'invalid')).toEqual([]);
  // The restart resumed after what the first run acknowledged: it repeats at most the last event printed before the kill.
  const firstSeqs = new Set(first.lines.map((l) => l.seq));
  expect(second.lines.filter((l) => firstSeqs.has(l.seq)).length).toBeLessThanOrEqual(1);
  expect(Math.min(...second.lines.map((l) => l.seq))).toBeGreaterThanOrEqual(Math.max(...first.lines.map((l) => l.seq)));
  expect(second.stderr).toContain('stopped');
  expect(EVENTS.setup.msgId(ws.id, 1)).toBe(`setup-${ws.id}-1`);
}, 120_000);
