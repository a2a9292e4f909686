import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type NatsConnection } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientNats, removeAllOf, startInfra, startInProcess, testHostEnv, waitFor, WORKSPACE_IMAGE, type Infra, type RunningPoolManager } from './harness.js';
import { SHELL_ARGV } from '../src/streams/stream-handlers.js';
import { inspectByBerthId, newRequestId, waitForWarm } from './helpers.js';

const OWNER = 'agent-owner';
// The workspace image without its agent and without node (so the agent berth mounts into images
// without it cannot run either): what a custom image that cannot run the agent looks like.
const PLAIN_IMAGE = `berth/test-no-agent:${randomBytes(4).toString('hex')}`;
const POOLS = [
  { name: 'default', targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 },
  { name: 'plain', image: PLAIN_IMAGE, targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 },
];

describe('commands through the workspace agent', () => {
  let infra: Infra;
  let pm: RunningPoolManager;
  let nc: NatsConnection & { close(): Promise<void> };
  let hostId: string;
  let agentRoot: string;
  let fake: Server | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    execFileSync('docker', ['build', '-q', '-t', PLAIN_IMAGE, '-'], {
      input: `FROM ${WORKSPACE_IMAGE}\nUSER root\nRUN rm /usr/local/bin/node\nUSER 1000:1000\nENTRYPOINT ["/usr/bin/tini", "--"]\nCMD ["sleep", "infinity"]\n`,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    agentRoot = mkdtempSync(join(tmpdir(), 'berth-agent-test-'));
    infra = await startInfra();
    env = testHostEnv({ POOLS: JSON.stringify(POOLS), AGENT_SOCKET_DIR: agentRoot });
    pm = await startInProcess(infra, env);
    hostId = pm.config.BERTH_HOST_ID;
    nc = await clientNats(infra, hostId);
    await waitForWarm(nc, 1, 60_000, 'default');
    await waitForWarm(nc, 1, 60_000, 'plain');
  });

  afterAll(async () => {
    fake?.close();
    await nc?.close();
    await pm?.stop();
    if (hostId) await removeAllOf(hostId);
    await infra?.dispose();
    rmSync(agentRoot, { recursive: true, force: true });
    execFileSync('docker', ['rmi', '-f', PLAIN_IMAGE], { stdio: 'ignore' });
  });

  const claim = (pool = 'default') => request(nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER, pool });
  const exec = (id: string, command: string | string[], timeoutMs = 10_000) =>
    request(nc, 'containerExec', { id, owner: OWNER, command, timeoutMs }, { timeoutMs: timeoutMs + 10_000 });
  /** Prints what started the command's shell: the agent (its tini), or under `docker exec` the `timeout` backstop. */
  const LAUNCHER = 'echo "launcher:$(tr "\\0" " " < /proc/$PPID/cmdline)"';
  const viaAgent = (stdout: string) => /launcher:\/usr\/bin\/tini(-static)? -s -- /.test(stdout);
  /** Every process of the workspace, asked of Docker (around berth). */
  const processes = async (id: string) => {
    const ref = (await inspectByBerthId(hostId, id)).Id;
    return execFileSync('docker', ['exec', ref, 'ps', '-eo', 'pid,args'], { encoding: 'utf8' });
  };

  it('runs commands without docker exec, with the same results', async () => {
    const ws = await claim();
    expect(viaAgent((await exec(ws.id, LAUNCHER)).stdout)).toBe(true);
    const r = await exec(ws.id, 'echo out; echo err >&2; id -un; pwd; exit 5');
    expect(r).toMatchObject({ exitCode: 5, stdout: 'out\nberth\n/workspace\n', stderr: 'err\n', timedOut: false });
    const env = await request(nc, 'containerExec', {
      id: ws.id,
      owner: OWNER,
      command: 'echo "$A|$HOME|$(pwd)"',
      env: { A: 'x y' },
      cwd: '/tmp',
      timeoutMs: 5_000,
    });
    expect(env.stdout).toBe('x y|/home/berth|/tmp\n');
  });

  it('kills the whole process tree on timeout, children in their own session included', async () => {
    const ws = await claim();
    const r = await exec(ws.id, `${LAUNCHER}; sleep 401 & setsid sleep 402 & (sleep 403 &); echo started; sleep 404`, 1_000);
    expect(r).toMatchObject({ timedOut: true });
    expect(r.stdout).toMatch(/started\n$/);
    expect(viaAgent(r.stdout)).toBe(true);
    expect(r.exitCode).not.toBe(0);
    await waitFor('every sleep to be gone', async () => !/sleep 40[1-4]/.test(await processes(ws.id)), 5_000);
  });

  it('a timeout kills what escaped by setsid, dropping BERTH_EXEC_ID and a double fork: nothing it started survives', async () => {
    const ws = await claim();
    const escape = `${LAUNCHER}; setsid sh -c 'env -u BERTH_EXEC_ID sh -c "sleep 411 & nohup sleep 412 >/dev/null 2>&1 &" &'; echo started; sleep 413`;
    const r = await exec(ws.id, escape, 1_500);
    expect(r).toMatchObject({ timedOut: true });
    expect(r.stdout).toMatch(/started\n$/);
    await waitFor('every sleep to be gone', async () => !/sleep 41[1-3]/.test(await processes(ws.id)), 5_000);
    expect(viaAgent(r.stdout)).toBe(true);
  });

  it('runs a terminal on a PTY through the agent: echo, resize, and kill leaves nothing', async () => {
    const ws = await claim();
    const term = await pm.processes.spawn(ws.id, OWNER, SHELL_ARGV, { tty: { cols: 80, rows: 24 } });
    let screen = '';
    const reading = (async () => {
      for await (const c of term.output) screen += c.data.toString('utf8');
    })();
    const until = (re: RegExp, from: number) =>
      waitFor(`terminal to show ${re}`, async () => re.test(screen.slice(from)), 10_000).catch((err: unknown) => {
        throw new Error(`${String(err)}; screen: ${JSON.stringify(screen.slice(from))}`);
      });
    let from = screen.length;
    term.write(Buffer.from('echo "parent:$(tr "\\0" " " < /proc/$PPID/cmdline)"; stty size\n'));
    // The shell's parent is the tini (subreaper) that `script` runs on the PTY (under `docker exec` it has none).
    await until(/parent:\/usr\/bin\/tini(-static)? -s -- sh -c .*\r?\n24 80/, from);
    await term.resize(100, 30);
    from = screen.length;
    term.write(Buffer.from('stty size; sleep 407 &\n'));
    await until(/30 100/, from);
    await waitFor('sleep 407 to start', async () => (await processes(ws.id)).includes('sleep 407'), 5_000);
    await term.kill();
    await reading;
    await waitFor('the shell and its children to be gone', async () => !/sleep 407|bash -l|script -qfec|tini(-static)? -s/.test(await processes(ws.id)), 5_000);
  });

  it("gives each workspace its own socket directory, pool-manager's and read-only inside, and removes it with the workspace", async () => {
    const ws = await claim();
    const dir = join(agentRoot, hostId, ws.id);
    expect(lstatSync(join(dir, 'agent.sock')).isSocket()).toBe(true);
    const st = lstatSync(dir);
    expect({ uid: st.uid, mode: st.mode & 0o777 }).toEqual({ uid: process.getuid!(), mode: 0o755 });
    const mounts = (await inspectByBerthId(hostId, ws.id)).Mounts.filter((m) => m.Type === 'bind');
    expect(mounts).toEqual([expect.objectContaining({ Source: dir, Destination: '/run/berth', RW: false })]);
    await request(nc, 'containerDelete', { id: ws.id, owner: OWNER });
    expect(existsSync(dir)).toBe(false);

    const orphan = join(agentRoot, hostId, 'ws_00000000deadbeef');
    mkdirSync(orphan);
    await pm.reconciler.run();
    expect(existsSync(orphan)).toBe(false);
  });

  it('an agent that dies (say, OOM-killed) leaves the workspace up, is replaced, and commands keep working', async () => {
    const ws = await claim();
    const ref = (await inspectByBerthId(hostId, ws.id)).Id;
    // Around berth, as the workspace user: the agent is not the main process, so the container lives on.
    execFileSync('docker', ['exec', ref, 'pkill', '-KILL', '-f', 'node /opt/berth/berth-agent.mjs']);
    const during = await exec(ws.id, `echo during; ${LAUNCHER}`);
    expect(during).toMatchObject({ exitCode: 0 });
    expect(during.stdout).toMatch(/^during\n/);
    expect((await inspectByBerthId(hostId, ws.id)).State.Running).toBe(true);
    await waitFor('a new agent to serve commands', async () => viaAgent((await exec(ws.id, LAUNCHER)).stdout), 10_000);
  });

  it('falls back to docker exec in an image that cannot run the agent', async () => {
    const ws = await claim('plain');
    const r = await exec(ws.id, `echo plain; id -un; ${LAUNCHER}`);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^plain\nberth\nlauncher:timeout -s KILL /);
    expect(viaAgent(r.stdout)).toBe(false);
  });

  it('a workspace cannot swap its socket for a link to another host socket: EROFS, and commands still reach its own agent', async () => {
    const ws = await claim();
    const bait = join(agentRoot, `bait-${randomBytes(4).toString('hex')}.sock`);
    let connections = 0;
    fake = createServer((s) => {
      connections += 1;
      s.on('data', () => undefined);
    });
    await new Promise<void>((resolve) => fake!.listen(bait, resolve));
    const swap = await exec(ws.id, ['ln', '-sfn', bait, '/run/berth/agent.sock']);
    expect(swap.exitCode).not.toBe(0);
    expect(swap.stderr).toMatch(/Read-only file system/);
    const plant = await exec(ws.id, 'rm -f /run/berth/agent.sock; echo x > /run/berth/llm-key');
    expect(plant.stderr).toMatch(/Read-only file system/);

    const r = await exec(ws.id, `echo still-works; ${LAUNCHER}`);
    expect(r.exitCode).toBe(0);
    expect(viaAgent(r.stdout)).toBe(true);
    expect(lstatSync(join(agentRoot, hostId, ws.id, 'agent.sock')).isSocket()).toBe(true);
    expect(connections).toBe(0);
  });

  it('after a pool-manager restart, the new one listens again for existing workspaces and their agents reconnect', async () => {
    const ws = await claim();
    await pm.stop();
    pm = await startInProcess(infra, env);
    await waitFor('commands through the agent again', async () => viaAgent((await exec(ws.id, LAUNCHER)).stdout), 15_000);
  });
});
