import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LocalStack } from '../../../test/support/local-stack.js';
import { Berth } from '../src/index.js';
import { CLI_MAIN, berthCli, startBerth } from './cli.js';
import { TmuxSession } from './tmux.js';
import { startSmallStack } from './stack.js';

// The berth CLI as a user runs it: a child process, config from flags, env and a config file.
let stack: LocalStack;
let home: string;
let env: Record<string, string>;
const DEAD_URL = 'http://127.0.0.1:9';

beforeAll(async () => {
  stack = await startSmallStack();
  home = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  env = { HOME: home, XDG_CONFIG_HOME: join(home, 'xdg'), BERTH_URL: stack.url, BERTH_API_KEY: stack.token };
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('berth CLI', () => {
  test('create, ls, exec with the exit code passed through, rm', async () => {
    const created = await berthCli(['create', '--name', 'cli-one'], env);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^ws_(?:[a-z0-9][a-z0-9-]*_)?[0-9a-f]{16}$/);
    expect(created.stderr).toContain('created cli-one');

    const ls = await berthCli(['ls'], env);
    expect(ls.stdout).toMatch(new RegExp(`^ID +NAME .*\\n${id} +cli-one +default +claimed`));
    const lsJson = JSON.parse((await berthCli(['ls', '--json'], env)).stdout) as { id: string }[];
    expect(lsJson.map((c) => c.id)).toContain(id);

    const exec = await berthCli(['exec', id, '--', 'sh', '-c', 'echo out; echo err >&2; exit 7'], env);
    expect(exec).toEqual({ code: 7, stdout: 'out\n', stderr: 'err\n' });
    expect((await berthCli(['exec', id, '--', 'true'], env)).code).toBe(0);
    const slow = await berthCli(['exec', id, '--timeout', '300', '--', 'sleep', '5'], env);
    expect([slow.code, slow.stderr]).toEqual([124, 'berth: command timed out after 300 ms\n']);

    expect(await berthCli(['rm', id], env)).toMatchObject({ code: 0, stdout: `${id}\n` });
    const again = await berthCli(['rm', id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('CONTAINER_NOT_FOUND');
  });

  test('exec shows output as it comes, and Ctrl-C stops the command in the workspace and exits 130', async () => {
    const id = (await berthCli(['create'], env)).stdout.trim();
    const marker = `${4000 + Math.floor(Math.random() * 1000)}.5`;
    const run = startBerth(['exec', id, '--', 'sh', '-c', `echo first; sleep ${marker}; echo never`], env);
    const deadline = Date.now() + 15_000;
    while (!run.stdout().includes('first\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // [s]leep: the check must not find itself.
    const container = await new Berth({ url: stack.url, apiKey: stack.token }).containers.get(id);
    const check = `for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f"; echo; done | grep -c '[s]leep ${marker}' || true`;
    // Seen while the command still runs: streamed, not printed at its exit.
    expect(run.stdout()).toBe('first\n');
    expect(Number((await container.exec(check)).stdout.trim())).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    const r = await run.result;
    expect([r.code, r.stdout]).toEqual([130, 'first\n']);
    expect(r.stderr).toContain('interrupted');
    // The command is gone from the workspace, not left running.
    let left = '';
    for (let i = 0; i < 50 && left !== '0'; i++) {
      if (i > 0) await new Promise((res) => setTimeout(res, 100));
      left = (await container.exec(check)).stdout.trim();
    }
    expect(left).toBe('0');
    await berthCli(['rm', id], env);
  }, 60_000);

  test('rm A B removes every container it can and names the ones it could not (exit 1)', async () => {
    const a = (await berthCli(['create'], env)).stdout.trim();
    const b = (await berthCli(['create'], env)).stdout.trim();
    const missing = 'ws_0123456789abcdef';
    const r = await berthCli(['rm', a, missing, b], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${a}\n${b}\n`);
    expect(r.stderr).toMatch(new RegExp(`^berth: rm ${missing}: CONTAINER_NOT_FOUND`, 'm'));
    expect(r.stderr).toContain('1 of 3 containers not removed');
    const left = JSON.parse((await berthCli(['ls', '--json'], env)).stdout) as { id: string }[];
    expect(left.map((c) => c.id)).not.toContain(a);
    expect(left.map((c) => c.id)).not.toContain(b);
  });

  test('--version, and `pnpm berth ... --json` in the repository prints only the JSON (no package-manager banner)', async () => {
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await berthCli(['--version'], {})).toEqual({ code: 0, stdout: `berth ${version}\n`, stderr: '' });
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const pnpm = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn('pnpm', args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout }));
      });
    expect(await pnpm(['berth', '--version'])).toEqual({ code: 0, stdout: `berth ${version}\n` });
    const pools = await pnpm(['berth', 'pools', '--json']);
    expect(pools.code).toBe(0);
    expect((JSON.parse(pools.stdout) as { name: string }[]).map((x) => x.name)).toEqual(['default']);
  }, 30_000);

  test('create, pools and health with --json', async () => {
    const created = JSON.parse((await berthCli(['create', '--json', '--pool', 'default'], env)).stdout) as { id: string; warm: boolean };
    expect(created).toMatchObject({ warm: true });
    const pools = JSON.parse((await berthCli(['pools', '--json'], env)).stdout) as { name: string }[];
    expect(pools.map((p) => p.name)).toEqual(['default']);
    expect((await berthCli(['pools'], env)).stdout).toMatch(/^NAME +IMAGE +WARM/);
    expect(JSON.parse((await berthCli(['health', '--json'], env)).stdout)).toMatchObject({ status: 'ok' });
    expect((await berthCli(['rm', created.id], env)).code).toBe(0);
  });

  test('login reads the key from stdin, checks it, and writes a config file only its owner can read', async () => {
    const cfgEnv = { HOME: home, XDG_CONFIG_HOME: join(home, 'login') };
    const wrong = await berthCli(['login', '--url', stack.url, '--api-key-stdin'], cfgEnv, 'not-the-key-123456\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('UNAUTHORIZED');
    expect(wrong.stderr).not.toContain('not-the-key');
    await expect(stat(join(home, 'login', 'berth', 'config.json'))).rejects.toThrow();

    const ok = await berthCli(['login', '--url', stack.url, '--api-key-stdin'], cfgEnv, `${stack.token}\n`);
    expect(ok.code).toBe(0);
    const file = join(home, 'login', 'berth', 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: stack.url, apiKey: stack.token });
    expect((await berthCli(['ls'], cfgEnv)).code).toBe(0);
  });

  test('flags beat env, env beats the config file', async () => {
    const xdg = join(home, 'precedence');
    await mkdir(join(xdg, 'berth'), { recursive: true });
    await writeFile(join(xdg, 'berth', 'config.json'), JSON.stringify({ url: stack.url, apiKey: stack.token }));
    const base = { HOME: home, XDG_CONFIG_HOME: xdg };
    expect((await berthCli(['pools'], base)).code).toBe(0);

    const envUrl = await berthCli(['pools'], { ...base, BERTH_URL: DEAD_URL });
    expect(envUrl.code).toBe(1);
    expect(envUrl.stderr).toMatch(/GET \/api\/pools failed/);
    expect((await berthCli(['pools', '--url', stack.url], { ...base, BERTH_URL: DEAD_URL })).code).toBe(0);

    const envKey = await berthCli(['pools'], { ...base, BERTH_API_KEY: 'wrong-key-123456' });
    expect([envKey.code, envKey.stderr]).toEqual([1, expect.stringContaining('UNAUTHORIZED')]);

    // Without XDG_CONFIG_HOME the file lives under ~/.config.
    await mkdir(join(home, '.config', 'berth'), { recursive: true });
    await writeFile(join(home, '.config', 'berth', 'config.json'), JSON.stringify({ url: stack.url, apiKey: stack.token }));
    expect((await berthCli(['ls', '--json'], { HOME: home })).code).toBe(0);
  });

  test('logs: stored output (plain text, both streams), --tail, --json lines, and -f follows new output', async () => {
    const id = (await berthCli(['create'], env)).stdout.trim();
    const tag = `cli${Date.now()}`;
    await berthCli(['exec', id, '--', 'sh', '-c', `echo ${tag}-out > /proc/1/fd/1; echo ${tag}-err > /proc/1/fd/2`], env);
    let r = await berthCli(['logs', id], env);
    for (let i = 0; i < 50 && !(r.stdout + r.stderr).includes(`${tag}-err`); i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = await berthCli(['logs', id], env);
    }
    expect(r.code).toBe(0);
    // Without -f the gateway answers plain text: both streams on stdout. Order is kept within a
    // stream; across stdout and stderr written microseconds apart it is not (as with Docker).
    expect(
      r.stdout
        .split('\n')
        .filter((l) => l.startsWith(tag))
        .sort(),
    ).toEqual([`${tag}-err`, `${tag}-out`]);
    const lines = (await berthCli(['logs', '--json', '-f', '--tail', '2', id], env, '', 2)).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: string; stream: string; id: string });
    expect(lines.map((l) => [l.stream, l.line]).sort()).toEqual([
      ['stderr', `${tag}-err`],
      ['stdout', `${tag}-out`],
    ]);

    const follow = berthCli(['logs', '-f', '--tail', '0', id], env, '', 1);
    await new Promise((res) => setTimeout(res, 1_500));
    await berthCli(['exec', id, '--', 'sh', '-c', `echo ${tag}-later > /proc/1/fd/1`], env);
    expect((await follow).stdout).toBe(`${tag}-later\n`);
    await berthCli(['rm', id], env);
    // About ten CLI processes, each a Node start: slow when other test files run beside it.
  }, 90_000);

  test('usage errors exit 2 with a clear message', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage: berth/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['exec', 'ws_0123456789abcdef', 'ls'], /put the command after --/],
      [['create', '--repo', 'not-a-repo@main'], /--repo must look like owner\/repo@branch/],
      [['logs'], /logs needs one container id/],
      [['logs', '--tail', 'x', 'ws_0123456789abcdef'], /--tail must be a whole number/],
      [['shell'], /shell needs one container id/],
      [['ls', '--pool', 'x'], /ls does not take --pool/],
      [['ls', '--api-key', 'sk-secret-value'], /never taken from the command line/],
    ];
    for (const [args, message] of cases) {
      const r = await berthCli(args, env);
      expect([args, r.code]).toEqual([args, 2]);
      expect(r.stdout + r.stderr).toMatch(message);
      expect(r.stderr).not.toContain('sk-secret-value');
    }
    const noConfig = await berthCli(['ls'], { HOME: home, XDG_CONFIG_HOME: join(home, 'empty') });
    expect([noConfig.code, noConfig.stderr]).toEqual([2, expect.stringContaining('no berth URL')]);
    expect(await berthCli(['--help'], {})).toMatchObject({ code: 0, stdout: expect.stringContaining('exec ID [--timeout MS] -- cmd args') as unknown });
  });
});

describe('berth shell under a real terminal (tmux)', () => {
  test("type, see the echo, follow a window resize, exit with the shell's code", async () => {
    const id = (await berthCli(['create'], env)).stdout.trim();
    // The key reaches the CLI through its config file, never the command line.
    const xdg = join(home, 'shell');
    await mkdir(join(xdg, 'berth'), { recursive: true });
    await writeFile(join(xdg, 'berth', 'config.json'), JSON.stringify({ url: stack.url, apiKey: stack.token }), { mode: 0o600 });
    const cmd = `env -i PATH="$PATH" HOME=${home} XDG_CONFIG_HOME=${xdg} ${process.execPath} --import tsx ${CLI_MAIN} shell ${id}; echo "BERTH-EXIT=$?"; sleep 60`;
    const tmux = new TmuxSession(cmd, { cwd: process.cwd(), cols: 100, rows: 30 });
    try {
      await tmux.waitFor(/[$#]$/m);
      tmux.type('echo "h""i"');
      await tmux.waitFor(/^hi$/m);
      tmux.type('stty size');
      await tmux.waitFor(/^30 100$/m);
      tmux.resize(120, 40);
      await new Promise((r) => setTimeout(r, 300));
      tmux.type('stty size');
      await tmux.waitFor(/^40 120$/m);
      // Ctrl-C goes to the remote shell (raw mode), not to berth.
      tmux.type('sleep 30', true);
      await new Promise((r) => setTimeout(r, 300));
      tmux.type('\x03', false);
      tmux.type('echo "after""-interrupt"');
      await tmux.waitFor(/^after-interrupt$/m);
      tmux.type('exit 3');
      await tmux.waitFor(/^BERTH-EXIT=3$/m);
    } finally {
      tmux.kill();
      await berthCli(['rm', id], env);
    }
  }, 60_000);
});
