import { EXEC_OUTPUT_CAP_BYTES, type CreateContainerReply } from '@berth/contracts';
import { request, type NatsConnection } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientNats, removeAllOf, startInfra, startInProcess, testHostEnv, type Infra, type RunningPoolManager } from './harness.js';
import { newRequestId, rejection, waitForWarm } from './helpers.js';

const OWNER = 'exec-owner';
const POOL = { name: 'default', targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 };
/** The same behaviour through the workspace's agent and through `docker exec` (agents off). */
const PATHS: [string, Record<string, string>][] = [
  ['agent', {}],
  ['docker exec', { AGENTS_ENABLED: 'false' }],
];

describe.each(PATHS)('exec in a claimed workspace, through %s', (path, pathEnv) => {
  let infra: Infra;
  let pm: RunningPoolManager;
  let nc: NatsConnection & { close(): Promise<void> };
  let hostId: string;
  let ws: CreateContainerReply;

  beforeAll(async () => {
    infra = await startInfra();
    pm = await startInProcess(infra, testHostEnv({ POOLS: JSON.stringify([POOL]), ...pathEnv }));
    hostId = pm.config.BERTH_HOST_ID;
    nc = await clientNats(infra, hostId);
    await waitForWarm(nc, 1);
    ws = await request(nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER });
  });

  afterAll(async () => {
    await nc?.close();
    await pm?.stop();
    if (hostId) await removeAllOf(hostId);
    await infra?.dispose();
  });

  const exec = (command: string | string[], timeoutMs = 10_000, owner = OWNER, id = ws.id) =>
    request(nc, 'containerExec', { id, owner, command, timeoutMs }, { timeoutMs: timeoutMs + 10_000 });

  it('takes the path it names', async () => {
    // What started the shell: the agent, or under `docker exec` the `timeout` backstop.
    const r = await exec('tr "\\0" " " < /proc/$PPID/cmdline; echo');
    // The agent starts each command under tini as a subreaper.
    expect(/^\/usr\/bin\/tini(-static)? -s -- /.test(r.stdout)).toBe(path === 'agent');
  });

  it('returns stdout and stderr separately, with the exit code', async () => {
    const r = await exec('echo to-out; echo to-err >&2; exit 3');
    expect(r).toMatchObject({
      exitCode: 3,
      stdout: 'to-out\n',
      stderr: 'to-err\n',
      stdoutTruncated: false,
      stderrTruncated: false,
      truncated: false,
      timedOut: false,
    });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);

    const ok = await exec(['true']);
    expect(ok).toMatchObject({ exitCode: 0, stdout: '', stderr: '', timedOut: false });
  });

  it('runs in /workspace as the workspace user', async () => {
    const r = await exec('pwd; id -un');
    expect(r.stdout).toBe('/workspace\nberth\n');
  });

  it('kills a command that exceeds its timeout, answers promptly and leaves no process behind', async () => {
    const timeoutMs = 1_500;
    const started = Date.now();
    // The shell stays as the parent (a command follows), so killing only the direct child would leave `sleep` orphaned.
    const r = await exec('echo begun; sleep 313; echo never', timeoutMs);
    const elapsed = Date.now() - started;

    expect(r.timedOut).toBe(true);
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toBe('begun\n');
    expect(r.durationMs).toBeGreaterThanOrEqual(timeoutMs);
    // The in-workspace kill answers; the driver's backstop (timeout + 2s) must not be what ended it.
    expect(elapsed).toBeLessThan(timeoutMs + 2_000);

    const ps = await exec(['ps', '-eo', 'pid,args']);
    expect(ps.exitCode).toBe(0);
    expect(ps.stdout).toContain('ps -eo pid,args');
    expect(ps.stdout).not.toContain('sleep 313');
    expect(ps.stdout).not.toContain('echo never');
  });

  it('a command that finishes within its timeout is not reported as timed out', async () => {
    const r = await exec('sleep 0.2; echo done', 5_000);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'done\n', timedOut: false });
  });

  it('caps output at 1 MiB per stream and says so: past the cap the command is killed', async () => {
    const r = await exec('echo small >&2; head -c 3000000 /dev/zero | tr "\\0" a; echo never', 30_000);
    expect(r.exitCode).toBe(137);
    expect(r.stdoutTruncated).toBe(true);
    expect(r.truncated).toBe(true);
    expect(r.stderrTruncated).toBe(false);
    expect(r.stderr).toBe('small\n');
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(EXEC_OUTPUT_CAP_BYTES);
    expect(r.stdout.length).toBeGreaterThan(EXEC_OUTPUT_CAP_BYTES / 2);
    expect(/^a+$/.test(r.stdout)).toBe(true);
  });

  it('caps stderr the same way, and both streams full still make one reply', async () => {
    const r = await exec('head -c 2000000 /dev/zero | tr "\\0" e >&2', 30_000);
    expect(r).toMatchObject({ exitCode: 137, stdoutTruncated: false, stderrTruncated: true, truncated: true });
    expect(Buffer.byteLength(r.stderr)).toBeLessThanOrEqual(EXEC_OUTPUT_CAP_BYTES);

    const both = await exec(`head -c ${EXEC_OUTPUT_CAP_BYTES} /dev/zero | tr "\\0" o; head -c 2000000 /dev/zero | tr "\\0" e >&2`, 30_000);
    expect(both).toMatchObject({ exitCode: 137, stdoutTruncated: true, stderrTruncated: true, truncated: true });
    expect(Buffer.byteLength(both.stdout)).toBeLessThanOrEqual(EXEC_OUTPUT_CAP_BYTES);
    expect(Buffer.byteLength(both.stderr)).toBeLessThanOrEqual(EXEC_OUTPUT_CAP_BYTES);
    expect(/^o+$/.test(both.stdout) && /^e+$/.test(both.stderr)).toBe(true);
  });

  it('output that grows when JSON-escaped (NUL bytes) is still answered, truncated', async () => {
    const r = await exec(['head', '-c', '1500000', '/dev/zero'], 30_000);
    expect(r).toMatchObject({ exitCode: 137, stdoutTruncated: true, truncated: true });
    expect(r.stdout.length).toBeGreaterThan(0);
    expect(/^\0+$/.test(r.stdout)).toBe(true);
  });

  it('endless output (cat /dev/zero) ends at the cap at once, not at the timeout', async () => {
    const r = await exec(['cat', '/dev/zero'], 60_000);
    expect(r).toMatchObject({ exitCode: 137, stdoutTruncated: true, timedOut: false });
    expect(r.durationMs).toBeLessThan(10_000);
  });

  it('output just under the cap is returned whole', async () => {
    const r = await exec('head -c 1000 /dev/zero | tr "\\0" b');
    expect(r).toMatchObject({ exitCode: 0, stdoutTruncated: false, truncated: false });
    expect(r.stdout).toBe('b'.repeat(1000));
  });

  it('runs an argv command without a shell', async () => {
    const r = await exec(['echo', '$HOME', '; id', '`id`', '$(id)', '*']);
    expect(r).toMatchObject({ exitCode: 0, stdout: '$HOME ; id `id` $(id) *\n' });
    // The string form does use a shell.
    const shell = await exec('echo $HOME');
    expect(shell.stdout).toBe('/home/berth\n');
  });

  it('an unknown id is CONTAINER_NOT_FOUND', async () => {
    const err = await rejection(exec(['true'], 5_000, OWNER, 'ws_0123456789abcdef'));
    expect(err.code).toBe('CONTAINER_NOT_FOUND');
    expect(err.retryable).toBe(false);
  });

  it("another owner's container is CONTAINER_NOT_FOUND, and the command never runs", async () => {
    const err = await rejection(exec('touch /workspace/intruder', 5_000, 'someone-else'));
    expect(err.code).toBe('CONTAINER_NOT_FOUND');
    const check = await exec('test -e /workspace/intruder && echo present || echo absent');
    expect(check.stdout).toBe('absent\n');
  });

  it('a warm container nobody claimed is CONTAINER_NOT_FOUND', async () => {
    await waitForWarm(nc, 1);
    const warm = (await pm.store.all()).find((r) => r.state === 'warm');
    expect(warm).toBeDefined();
    const err = await rejection(exec(['true'], 5_000, OWNER, warm!.id));
    expect(err.code).toBe('CONTAINER_NOT_FOUND');
  });

  it('a command cut short by deleting its workspace is 409 CONTAINER_DELETED, never a result with exitCode null', async () => {
    await waitForWarm(nc, 1);
    const doomed = await request(nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER });
    const running = exec('echo started; sleep 60', 30_000, OWNER, doomed.id);
    running.catch(() => undefined);
    // Started: the delete cuts it short rather than beating it to the container.
    await new Promise((r) => setTimeout(r, 500));
    await request(nc, 'containerDelete', { id: doomed.id, owner: OWNER }, { timeoutMs: 30_000 });
    const err = await rejection(running);
    expect(err.code, err.message).toBe('CONTAINER_DELETED');
    expect(err.retryable).toBe(false);
  }, 60_000);
});
