import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@berth/service-kit';
import { AgentDirs } from '../src/agent/agent-dirs.js';
import { agentSpawn } from '../src/agent/agent-exec.js';
import { AgentListener } from '../src/agent/agent-listener.js';
import { AgentRegistry } from '../src/agent/agent-registry.js';
import { encodeJson, KIND } from '../src/agent/frames.js';

// pool-manager's side of the agent channel against a hostile agent: raw sockets that misbehave.
let dir: string;
let listener: AgentListener;
const LIMITS = { maxIdle: 2, maxPending: 2, helloTimeoutMs: 300, maxRefusedPerSecond: 5, pauseMs: 400 };
const HELLO = { type: 'hello', agent: 'berth', version: 2, pid: 1 };

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-listener-'));
  listener = new AgentListener(join(dir, 'agent.sock'), LIMITS);
  await listener.listen();
});
afterEach(() => {
  listener.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A client socket, and a promise of its close. */
async function dial(): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(join(dir, 'agent.sock'));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  return { socket, closed };
}
const isOpen = async (c: { closed: Promise<void> }, ms = 150) => Promise.race([c.closed.then(() => false), new Promise((r) => setTimeout(() => r(true), ms))]);

describe('agent listener bounds what an agent can make pool-manager hold', () => {
  it('replaces a stale socket file and lets the workspace user connect', () => {
    expect(statSync(join(dir, 'agent.sock')).mode & 0o777).toBe(0o666);
  });

  it('keeps at most maxIdle greeted connections; extra ones are closed', async () => {
    const conns = await Promise.all([dial(), dial(), dial()]);
    for (const c of conns) c.socket.write(encodeJson(HELLO));
    expect(await listener.waitIdle(1_000)).toBe(true);
    const open = await Promise.all(conns.map((c) => isOpen(c, 300)));
    expect(open.filter(Boolean)).toHaveLength(2);
  });

  it('closes a connection that says no hello in time, or a wrong one, and hands out neither', async () => {
    const silent = await dial();
    const wrong = await dial();
    wrong.socket.write(encodeJson({ ...HELLO, version: 1 }));
    await wrong.closed;
    await silent.closed;
    expect(await listener.take(0)).toBeUndefined();
  });

  it('closes an idle connection that sends output or a message without a command', async () => {
    const a = await dial();
    a.socket.write(encodeJson(HELLO));
    expect(await listener.waitIdle(1_000)).toBe(true);
    const out = Buffer.from([0, 0, 0, 2, KIND.stdout, 0x41]);
    a.socket.write(out);
    await a.closed;
    const b = await dial();
    b.socket.write(Buffer.concat([encodeJson(HELLO), encodeJson({ type: 'exit', exitCode: 0, timedOut: false })]));
    await b.closed;
    expect(await listener.take(0)).toBeUndefined();
  });

  it('a stale idle connection (the agent died) is reported as not having run the command', async () => {
    const a = await dial();
    a.socket.write(encodeJson(HELLO));
    expect(await listener.waitIdle(1_000)).toBe(true);
    const conn = (await listener.take(0))!;
    a.socket.destroy();
    expect(await agentSpawn(conn, ['true'], {})).toBeUndefined();
  });

  it('closes a connection announcing an oversized frame', async () => {
    const a = await dial();
    const head = Buffer.alloc(5);
    head.writeUInt32BE(64 * 1024 * 1024, 0);
    a.socket.write(head);
    await a.closed;
  });

  it('with no agent connected a command does not wait; with one busy it waits for the replacement', async () => {
    const started = Date.now();
    expect(await listener.take(5_000)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(100);
    const a = await dial();
    a.socket.write(encodeJson(HELLO));
    expect(await listener.waitIdle(1_000)).toBe(true);
    expect(await listener.take(0)).toBeDefined();
    const waiting = listener.take(2_000);
    const b = await dial();
    b.socket.write(encodeJson(HELLO));
    expect(await waiting).toBeDefined();
    expect(await isOpen(b)).toBe(true);
  });

  it('a connection flood pauses the listener: no more accepts for a moment, the greeted connections live on', async () => {
    const kept = await Promise.all([dial(), dial()]);
    for (const c of kept) c.socket.write(encodeJson(HELLO));
    await new Promise((r) => setTimeout(r, 100));
    const flood = await Promise.all(Array.from({ length: 8 }, () => dial().catch(() => undefined)));
    await Promise.all(flood.map((c) => c?.closed));
    expect(existsSync(join(dir, 'agent.sock')), 'socket gone while paused').toBe(false);
    expect(await Promise.all(kept.map((c) => isOpen(c)))).toEqual([true, true]);
    expect(await listener.take(0)).toBeDefined();
    await new Promise((r) => setTimeout(r, 600));
    expect(existsSync(join(dir, 'agent.sock')), 'listening again').toBe(true);
    const late = await dial();
    late.socket.write(encodeJson(HELLO));
    expect(await isOpen(late)).toBe(true);
  });
});

describe('agent registry', () => {
  it("adopts only directories that are pool-manager's own: an earlier layout (world-writable) keeps docker exec", async () => {
    const logger = createLogger('test', 'silent');
    const dirs = (await AgentDirs.open(dir, 'h1', logger))!;
    const registry = new AgentRegistry(dirs, logger);
    try {
      const made = await registry.create('ws_new');
      expect(statSync(made).mode & 0o777).toBe(0o755);
      expect(existsSync(join(made, 'agent.sock'))).toBe(true);

      mkdirSync(dirs.dir('ws_old'));
      chmodSync(dirs.dir('ws_old'), 0o777);
      await registry.adopt('ws_old');
      expect(existsSync(join(dirs.dir('ws_old'), 'agent.sock'))).toBe(false);

      mkdirSync(dirs.dir('ws_restarted'), { mode: 0o755 });
      await registry.adopt('ws_restarted');
      expect(existsSync(join(dirs.dir('ws_restarted'), 'agent.sock'))).toBe(true);

      await registry.remove('ws_new');
      expect(existsSync(made)).toBe(false);
    } finally {
      registry.closeAll();
    }
  });
});
