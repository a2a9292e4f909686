import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentDecoder, encodeJson, type AgentMessage } from '../src/agent/frames.js';

// The real agent (docker/agent/berth-agent.mjs) against a bare listener that counts its connections:
// when does a taken connection's replacement open?
const AGENT = resolve(import.meta.dirname, '../../../docker/agent/berth-agent.mjs');

interface Conn {
  socket: Socket;
  messages: AgentMessage[];
  closed: Promise<void>;
}

let dir: string;
let server: Server;
let agent: ChildProcess;
const conns: Conn[] = [];
const idle: Conn[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-agent-refill-'));
  const socketPath = join(dir, 'agent.sock');
  server = createServer((socket) => {
    const conn: Conn = { socket, messages: [], closed: new Promise((r) => socket.once('close', () => r())) };
    conns.push(conn);
    const decoder = new AgentDecoder((msg) => {
      conn.messages.push(msg);
      if (msg.type === 'hello') idle.push(conn);
    });
    socket.pipe(decoder).resume();
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  agent = spawn(process.execPath, [AGENT, '--socket', socketPath], { stdio: 'inherit' });
  await until(() => idle.length === 2, 10_000);
});

afterAll(() => {
  agent?.kill('SIGTERM');
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Gives an idle connection a command; resolves once the agent accepted it. */
async function exec(argv: string[]): Promise<Conn> {
  const conn = idle.shift()!;
  conn.socket.write(encodeJson({ type: 'exec', argv, env: {}, cwd: dir }));
  await until(() => conn.messages.some((m) => m.type === 'accepted'), 5_000);
  return conn;
}

describe('agent connection refill', () => {
  it('replaces a taken connection after its command when another is still idle, at once when none is', async () => {
    const before = conns.length;
    const first = await exec(['sleep', '0.8']);
    // Another connection is idle: no connect shares the workspace's CPU with this short command.
    await new Promise((r) => setTimeout(r, 400));
    expect(conns.length).toBe(before);
    await until(() => first.messages.some((m) => m.type === 'exit'), 10_000);
    await first.closed;
    await until(() => conns.length === before + 1, 5_000);
    await until(() => idle.length === 2, 5_000);

    // Both idle connections taken: replacements open while the commands still run.
    const a = await exec(['sleep', '3']);
    const b = await exec(['sleep', '3']);
    await until(() => conns.length >= before + 3, 1_500);
    expect(a.messages.some((m) => m.type === 'exit') || b.messages.some((m) => m.type === 'exit')).toBe(false);
    await Promise.all([a.closed, b.closed]);
    await until(() => idle.length >= 2, 5_000);
  });
});
