import { execFileSync } from 'node:child_process';
import { callApi, waitFor } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { TerminalClient } from '../support/terminal-client.js';

// Streaming exec and terminals as a caller sees them: real gateway and pool-manager processes,
// NATS, Redis and Docker; every check of what runs in the workspace goes around berth, to Docker.
let stack: LocalStack;
let id: string;

beforeAll(async () => {
  stack = await startLocalStack(
    {
      POOLS: JSON.stringify([{ name: 'default', targetSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 }]),
    },
    'debug',
  );
  id = (await call('POST', '/api/containers', {})).json.id as string;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const auth = () => ({ authorization: `Bearer ${stack.token}` });

const call = (method: string, path: string, body?: unknown) => callApi(stack.url, stack.token, method, path, body);

/** Every process in the workspace, asked of Docker directly. */
function processes(): string {
  const ref = execFileSync('docker', ['ps', '-q', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();
  return execFileSync('docker', ['exec', ref, 'ps', '-eo', 'pid,pgid,args'], { encoding: 'utf8' });
}

const until = (what: string, fn: () => boolean) => waitFor(what, fn, 5_000);

/** Reads a streaming exec, timing each line from the request. */
async function streamLines(body: unknown, accept?: string, signal?: AbortSignal) {
  const t0 = performance.now();
  const res = await fetch(`${stack.url}/api/containers/${id}/exec?stream=true`, {
    method: 'POST',
    signal,
    headers: { ...auth(), 'content-type': 'application/json', ...(accept && { accept }) },
    body: JSON.stringify(body),
  });
  return { res, t0 };
}

describe('streaming exec', () => {
  test('NDJSON output arrives as it happens, then the exit code', async () => {
    const { res, t0 } = await streamLines({ command: 'echo a; sleep 1; echo b >&2; exit 4' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const events: { at: number; e: Record<string, unknown> }[] = [];
    let buf = '';
    for await (const chunk of res.body!) {
      buf += Buffer.from(chunk).toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        events.push({ at: performance.now() - t0, e: JSON.parse(buf.slice(0, nl)) as Record<string, unknown> });
        buf = buf.slice(nl + 1);
      }
    }
    expect(events.map((x) => x.e)).toEqual([
      { type: 'stdout', data: 'a\n' },
      { type: 'stderr', data: 'b\n' },
      expect.objectContaining({ type: 'exit', exitCode: 4, timedOut: false }),
    ]);
    // The first line must not wait for the command: it comes a good part of the sleep earlier.
    expect(events[2]!.at - events[0]!.at).toBeGreaterThan(700);
  });

  test('SSE when the client accepts text/event-stream', async () => {
    const { res } = await streamLines({ command: ['sh', '-c', 'echo "$GREETING from $(pwd)"'], env: { GREETING: 'hello' }, cwd: '/tmp' }, 'text/event-stream');
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(text).toContain('event: stdout\ndata: {"type":"stdout","data":"hello from /tmp\\n"}');
    expect(text).toMatch(/event: exit\ndata: \{"type":"exit","exitCode":0,/);
  });

  test('a timed-out command is killed with its children, even ones in their own session', async () => {
    const r = await call('POST', `/api/containers/${id}/exec`, {
      command: 'sleep 301 & setsid sleep 302 & (sleep 303 &); echo started; sleep 304',
      timeout: 1_000,
    });
    expect(r.json).toMatchObject({ timedOut: true, stdout: 'started\n' });
    await until('every sleep to be gone', () => !/sleep 30[1-4]/.test(processes()));
  });

  test('a client that goes away kills the command', async () => {
    const abort = new AbortController();
    const { res } = await streamLines({ command: 'echo started; sleep 305 & sleep 306', timeout: 60_000 }, undefined, abort.signal);
    const reader = res.body!.getReader();
    const first = Buffer.from((await reader.read()).value!).toString('utf8');
    expect(first).toContain('started');
    expect(processes()).toContain('sleep 306');
    abort.abort();
    await until('the command to be killed', () => !/sleep 30[56]/.test(processes()));
  });

  test('a command cut short by deleting its container ends with a CONTAINER_DELETED error event, not an exit without a code', async () => {
    const doomed = (await call('POST', '/api/containers', {})).json.id as string;
    const res = await fetch(`${stack.url}/api/containers/${doomed}/exec?stream=true`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'echo started; sleep 60', timeout: 60_000 }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = Buffer.from((await reader.read()).value!).toString('utf8');
    expect(text).toContain('started');
    expect((await call('DELETE', `/api/containers/${doomed}`)).status).toBe(200);
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += Buffer.from(r.value).toString('utf8');
    const events = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'CONTAINER_DELETED', retryable: false } });
    expect(events.some((e) => e.type === 'exit')).toBe(false);
  }, 60_000);

  test('env and cwd are validated', async () => {
    const bad = await call('POST', `/api/containers/${id}/exec`, { command: 'true', env: { 'BAD-NAME': 'x' } });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const rel = await call('POST', `/api/containers/${id}/exec`, { command: 'true', cwd: 'relative' });
    expect(rel.status).toBe(400);
    const ok = await call('POST', `/api/containers/${id}/exec`, { command: 'echo $A$B; pwd', env: { A: '1', B: 'two words' }, cwd: '/home/berth' });
    expect(ok.json).toMatchObject({ exitCode: 0, stdout: '1two words\n/home/berth\n' });
  });

  test('an unknown container is a plain 404, not a stream', async () => {
    const res = await fetch(`${stack.url}/api/containers/ws_0000000000000000/exec?stream=true`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: '{"command":"true"}',
    });
    expect(res.status).toBe(404);
  });
});

describe('terminal', () => {
  const wsUrl = () => `${stack.url.replace('http', 'ws')}/api/containers/${id}/terminal`;
  const ticket = async () => (await call('POST', `/api/containers/${id}/tickets`)).json.ticket as string;

  test('echoes input, resizes, and leaves no process behind when closed', async () => {
    const term = await TerminalClient.open(wsUrl(), { ticket: await ticket() });
    term.type('echo hi-$((40+2))\n');
    await term.waitFor(/hi-42/);
    let from = term.output.length;
    term.type('stty size\n');
    await term.waitFor(/24 80/, 10_000, from);
    term.resize(100, 30);
    from = term.output.length;
    term.type('stty size\n');
    await term.waitFor(/30 100/, 10_000, from);
    term.type('sleep 307 &\n');
    await until('the shell to start sleep', () => processes().includes('sleep 307'));
    expect(processes()).toMatch(/bash -l/);
    term.close();
    await term.closed;
    await until('the shell and its children to be gone', () => !/bash -l|sleep 307/.test(processes()));
  });

  test('exit ends the socket with the exit code', async () => {
    const term = await TerminalClient.open(wsUrl(), { token: stack.token });
    term.type('exit 3\n');
    expect(await term.closed).toMatchObject({ code: 1000 });
    expect(term.frames).toContainEqual({ type: 'exit', code: 3 });
  });

  test('a used ticket, a wrong ticket and no credentials are refused with 401', async () => {
    const t = await ticket();
    const term = await TerminalClient.open(wsUrl(), { ticket: t });
    term.close();
    await expect(TerminalClient.open(wsUrl(), { ticket: t })).rejects.toThrow('HTTP 401');
    await expect(TerminalClient.open(`${wsUrl()}?ticket=${t}`)).rejects.toThrow('HTTP 401');
    await expect(TerminalClient.open(wsUrl(), { ticket: 'A'.repeat(43) })).rejects.toThrow('HTTP 401');
    await expect(TerminalClient.open(wsUrl())).rejects.toThrow('HTTP 401');
  });

  test('a frame over 64 KiB closes the socket with 1009', async () => {
    const term = await TerminalClient.open(wsUrl(), { ticket: await ticket() });
    term.ws.send(Buffer.alloc(64 * 1024 + 1, 0x61), { binary: true });
    expect((await term.closed).code).toBe(1009);
  });

  test('the API token is in no URL and no log line', () => {
    expect(stack.gateway.output).toContain('/terminal');
    for (const out of [stack.gateway.output, stack.poolManager.output]) expect(out).not.toContain(stack.token);
    const urls = [...stack.gateway.output.matchAll(/"url":"([^"]*)"/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) expect(u).not.toContain(stack.token);
  });
});
