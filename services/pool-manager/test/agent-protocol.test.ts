import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSpawn } from '../src/agent/agent-exec.js';
import { AgentListener } from '../src/agent/agent-listener.js';
import { encodeJson, type AgentMessage } from '../src/agent/frames.js';
import type { ExecProcess, OutputChunk } from '../src/driver/exec-process.js';

// The real agent (docker/agent/berth-agent.mjs) connecting to pool-manager's listener on a temp socket.
const AGENT = resolve(import.meta.dirname, '../../../docker/agent/berth-agent.mjs');
let dir: string;
let socketPath: string;
let listener: AgentListener;
let agent: ChildProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-agent-unit-'));
  socketPath = join(dir, 'agent.sock');
  listener = new AgentListener(socketPath);
  await listener.listen();
  agent = spawn(process.execPath, [AGENT, '--socket', socketPath], { stdio: 'inherit' });
  if (!(await listener.waitIdle(10_000))) throw new Error('agent did not connect');
});

afterAll(() => {
  agent?.kill('SIGTERM');
  listener?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}, cwd = dir, maxOutputBytes?: number): Promise<ExecProcess> {
  const conn = await listener.take(2_000);
  if (!conn) throw new Error('agent not connected');
  const proc = await agentSpawn(conn, argv, { env, cwd, maxOutputBytes });
  if (!proc) throw new Error('agent did not accept the command');
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

/** Bounds on a loaded machine (pgrep and forks slow down), not speed targets. */
async function waitAlive(pattern: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!alive(pattern)) {
    if (Date.now() > deadline) throw new Error(`${pattern} never started`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function gone(pattern: string, timeoutMs = 10_000): Promise<boolean> {
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
    const rest = (async () => {
      while (!(await it.next()).done);
    })();
    await proc.kill();
    await rest;
    expect(await gone('sleep 50[123]')).toBe(true);
    expect(await proc.exitCode()).toBe(137);
  });

  it('a dropped connection cancels the command', async () => {
    const conn = await listener.take(2_000);
    conn!.socket.write(encodeJson({ type: 'exec', argv: ['sleep', '504'], env: {}, cwd: dir }));
    await waitAlive('sleep 504');
    conn!.destroy();
    expect(await gone('sleep 504')).toBe(true);
  });

  it('kills on its own timeoutMs and says so', async () => {
    const conn = (await listener.take(2_000))!;
    conn.decoder.resume();
    conn.socket.write(encodeJson({ type: 'exec', argv: ['sleep', '505'], env: {}, cwd: dir, timeoutMs: 300 }));
    await conn.ended;
    expect(conn.exit).toMatchObject({ type: 'exit', exitCode: 137, timedOut: true } satisfies AgentMessage);
    expect(alive('sleep 505')).toBe(false);
  });

  it('a timeout kills what escaped by setsid, dropping the marker and a double fork', async () => {
    // The grandchild leaves the session, drops BERTH_EXEC_ID and is orphaned: tini -s still holds it.
    const escape = 'setsid sh -c \'env -u BERTH_EXEC_ID sh -c "sleep 506 & sleep 507 &" &\'; sleep 508';
    const proc = await run(['sh', '-c', escape]);
    const result = drain(proc);
    // Each on its own: the escaped grandchildren may start after `sleep 508` does.
    for (const sleeper of ['sleep 506', 'sleep 507', 'sleep 508']) await waitAlive(sleeper);
    await proc.kill();
    expect((await result).exitCode).toBe(137);
    expect(await gone('sleep 50[678]')).toBe(true);
  });

  it('stops at maxOutputBytes: sends no more, kills the command and says which stream was cut', async () => {
    const proc = await run(['sh', '-c', 'echo small >&2; cat /dev/zero'], {}, dir, 100_000);
    const r = await drain(proc);
    expect(r.stdout.length).toBe(100_000);
    expect(r.stderr).toBe('small\n');
    expect(r.exitCode).toBe(137);
    expect(proc.truncated()).toEqual({ stdout: true, stderr: false });
  });

  it('keeps a few idle connections and replaces each one taken at once', async () => {
    await listener.waitIdle(2_000);
    // More commands at once than idle connections: each waits for the replacement of one taken.
    const results = await Promise.all(Array.from({ length: 8 }, async (_, i) => drain(await run(['echo', String(i)]))));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 8 }, (_, i) => `${i}\n`));
    expect(await listener.waitIdle(2_000)).toBe(true);
  });
});
