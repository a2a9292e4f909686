import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSpawn } from '../src/agent/agent-exec.js';
import { AgentDecoder, encodeJson, type AgentMessage } from '../src/agent/frames.js';
import type { ExecProcess, OutputChunk } from '../src/driver/exec-process.js';

// The real agent (docker/agent/berth-agent.mjs) on a temp socket, spoken to by pool-manager's client.
const AGENT = resolve(import.meta.dirname, '../../../docker/agent/berth-agent.mjs');
let dir: string;
let socketPath: string;
let agent: ChildProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-agent-unit-'));
  socketPath = join(dir, 'agent.sock');
  agent = spawn(process.execPath, [AGENT, '--socket', socketPath], { stdio: 'inherit' });
  const deadline = Date.now() + 10_000;
  while (!(await new Promise<boolean>((r) => { const s = connect(socketPath, () => { s.destroy(); r(true); }); s.on('error', () => r(false)); }))) {
    if (Date.now() > deadline) throw new Error('agent did not listen');
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(() => {
  agent?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}, cwd = dir): Promise<ExecProcess> {
  const proc = await agentSpawn(socketPath, argv, { env, cwd });
  if (!proc) throw new Error('agent not reached');
  return proc;
}

async function drain(proc: ExecProcess): Promise<{ stdout: string; stderr: string; exitCode: number | null }> {
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  for await (const c of proc.output as AsyncIterable<OutputChunk>) out[c.stream].push(c.data);
  return { stdout: Buffer.concat(out.stdout).toString(), stderr: Buffer.concat(out.stderr).toString(), exitCode: await proc.exitCode() };
}

const alive = (pattern: string) => {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().length > 0;
  } catch {
    return false;
  }
};

async function gone(pattern: string, timeoutMs = 3_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pattern)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

describe('berth agent protocol', () => {
  it('runs a command with env and cwd, separating stdout and stderr, and reports the exit code', async () => {
    const r = await drain(await run(['sh', '-c', 'echo "$GREETING $(pwd)"; echo oops >&2; exit 7'], { GREETING: 'hi there' }));
    expect(r).toEqual({ stdout: `hi there ${dir}\n`, stderr: 'oops\n', exitCode: 7 });
  });

  it('passes binary output through unchanged and in order', async () => {
    const r = await drain(await run(['sh', '-c', 'seq 1 200000']));
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(200_000);
    expect(lines.every((l, i) => l === String(i + 1))).toBe(true);
  });

  it('answers a missing command with 127 and a bad cwd with 126', async () => {
    const missing = await drain(await run(['no-such-command-xyz']));
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain('no-such-command-xyz');
    const badCwd = await drain(await run(['true'], {}, join(dir, 'nope')));
    expect(badCwd.exitCode).toBe(126);
  });

  it('kill() ends the whole tree, children in their own session included', async () => {
    const proc = await run(['sh', '-c', 'sleep 501 & setsid sleep 502 & echo started; sleep 503']);
    const it = (proc.output as AsyncIterable<OutputChunk>)[Symbol.asyncIterator]();
    expect(String((await it.next()).value?.data)).toBe('started\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(alive('sleep 50[123]')).toBe(true);
    const rest = (async () => { while (!(await it.next()).done); })();
    await proc.kill();
    await rest;
    expect(await gone('sleep 50[123]')).toBe(true);
    expect(await proc.exitCode()).toBe(137);
  });

  it('a dropped connection cancels the command', async () => {
    const socket = connect(socketPath);
    const decoder = new AgentDecoder((msg: AgentMessage) => {
      if (msg.type === 'hello') socket.write(encodeJson({ type: 'exec', argv: ['sleep', '504'], env: {}, cwd: dir }));
    });
    socket.pipe(decoder);
    await new Promise((r) => setTimeout(r, 300));
    expect(alive('sleep 504')).toBe(true);
    socket.destroy();
    expect(await gone('sleep 504')).toBe(true);
  });

  it('kills on its own timeoutMs and says so', async () => {
    const socket = connect(socketPath);
    const messages: AgentMessage[] = [];
    const decoder = new AgentDecoder((msg) => {
      messages.push(msg);
      if (msg.type === 'hello') socket.write(encodeJson({ type: 'exec', argv: ['sleep', '505'], env: {}, cwd: dir, timeoutMs: 300 }));
    });
    socket.pipe(decoder);
    decoder.resume();
    await new Promise((r) => decoder.once('end', r));
    expect(messages.at(-1)).toEqual({ type: 'exit', exitCode: 137, timedOut: true });
    expect(alive('sleep 505')).toBe(false);
  });

  it('a socket that never says hello gets nothing written and the caller falls back', async () => {
    const fakePath = join(dir, 'mute.sock');
    let received = 0;
    const fake = createServer((s) => s.on('data', (d: Buffer) => { received += d.length; }));
    await new Promise<void>((r) => fake.listen(fakePath, r));
    const started = Date.now();
    expect(await agentSpawn(fakePath, ['true'], { cwd: dir })).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(received).toBe(0);
    fake.close();
    expect(await agentSpawn(join(dir, 'missing.sock'), ['true'], { cwd: dir })).toBeUndefined();
  });
});
