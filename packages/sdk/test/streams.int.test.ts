import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LocalStack } from '../../../test/support/local-stack.js';
import { Berth, BerthAbortError, BerthApiError, BerthTimeoutError, type Container, type LogLine } from '../src/index.js';
import { startSmallStack } from './stack.js';
import { TcpProxy } from './tcp-proxy.js';

// Streaming exec, logs with resume, and the terminal, against the real gateway, pool-manager,
// log-streamer, NATS, Redis and Docker.
let stack: LocalStack;
let berth: Berth;
let container: Container;
beforeAll(async () => {
  stack = await startSmallStack();
  berth = new Berth({ url: stack.url, apiKey: stack.token });
  container = await berth.containers.create({ name: 'sdk-streams' });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

describe('container.exec with callbacks (streaming)', () => {
  test('output arrives as it happens, before the command ends; env and cwd apply', async () => {
    const chunks: { stream: string; data: string; at: number }[] = [];
    const started = Date.now();
    const r = await container.exec('echo one; sleep 1; echo two >&2; echo "$GREETING $(pwd)"', {
      env: { GREETING: 'hello' },
      cwd: '/tmp',
      onStdout: (data) => chunks.push({ stream: 'stdout', data, at: Date.now() - started }),
      onStderr: (data) => chunks.push({ stream: 'stderr', data, at: Date.now() - started }),
    });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false, stdout: 'one\nhello /tmp\n', stderr: 'two\n', truncated: false });
    expect(chunks.map((c) => c.stream + ':' + c.data).join('')).toBe('stdout:one\nstderr:two\nstdout:hello /tmp\n');
    const one = chunks.find((c) => c.data === 'one\n')!;
    const total = r.durationMs;
    expect(total).toBeGreaterThanOrEqual(1_000);
    // "one" was seen while "sleep 1" still ran.
    expect(one.at).toBeLessThan(chunks.at(-1)!.at - 500);
  });

  test('a non-streaming exec takes env and cwd too; a timeout is reported, not thrown', async () => {
    expect((await container.exec('echo $X; pwd', { env: { X: 'y' }, cwd: '/etc' })).stdout).toBe('y\n/etc\n');
    const r = await container.exec('sleep 5', { timeoutMs: 300, onStdout: () => undefined });
    expect(r.timedOut).toBe(true);
  });

  test('aborting a streaming exec kills the command', async () => {
    const ac = new AbortController();
    const marker = `/tmp/abort-${Date.now()}`;
    const run = container.exec(`echo started; sleep 3; touch ${marker}`, {
      signal: ac.signal,
      onStdout: (d) => {
        if (d.includes('started')) ac.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(BerthAbortError);
    await new Promise((r) => setTimeout(r, 3_500));
    expect((await container.exec(`test -e ${marker}; echo $?`)).stdout).toBe('1\n');
  });

  test('a streaming exec on a missing container is CONTAINER_NOT_FOUND', async () => {
    const ghost = await berth.containers.create();
    await ghost.delete();
    await expect(ghost.exec('true', { onStdout: () => undefined })).rejects.toMatchObject({ code: 'CONTAINER_NOT_FOUND', status: 404 });
  });
});

async function take(it: AsyncIterator<LogLine>, n: number): Promise<LogLine[]> {
  const out: LogLine[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('container.logs', () => {
  test('follow resumes after the connection is cut, with no line lost or repeated', async () => {
    const proxy = await TcpProxy.start(Number(new URL(stack.url).port));
    try {
      const c = await new Berth({ url: proxy.url, apiKey: stack.token }).containers.get(container.id);
      // A counter the container writes to its main process's output, one line every 100 ms.
      const tag = `tick${Date.now()}`;
      await container.exec(`sh -c 'for i in $(seq 1 40); do echo ${tag}-$i; sleep 0.1; done' > /proc/1/fd/1 2>&1 &`);
      const ac = new AbortController();
      const it = c.logs({ signal: ac.signal, reconnect: { delayMs: 50 } })[Symbol.asyncIterator]();
      const seen: string[] = [];
      while (seen.length < 40) {
        const r = await it.next();
        if (r.done) throw new Error('the followed stream ended');
        expect(r.value.id).toEqual(expect.any(String));
        if (!r.value.line.startsWith(tag)) continue;
        seen.push(r.value.line);
        if (seen.length === 10 || seen.length === 25) proxy.cutAll();
      }
      ac.abort();
      await expect(it.next()).rejects.toBeInstanceOf(BerthAbortError);
      expect(proxy.cuts).toBe(2);
      expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => `${tag}-${i + 1}`));
    } finally {
      await proxy.close();
    }
  }, 30_000);

  test('follow: false reads what is stored and ends; tail, after and timeoutMs', async () => {
    const tag = `once${Date.now()}`;
    await container.exec(`for i in 1 2 3; do echo ${tag}-$i; done > /proc/1/fd/1`);
    // The log-streamer ships lines within moments; wait for the third.
    let lines: LogLine[] = [];
    for (let i = 0; i < 50 && !lines.some((l) => l.line === `${tag}-3`); i++) {
      lines = [];
      for await (const l of container.logs({ follow: false })) lines.push(l);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(lines.map((l) => l.line).filter((l) => l.startsWith(tag))).toEqual([`${tag}-1`, `${tag}-2`, `${tag}-3`]);

    const tail = await take(container.logs({ tail: 2 }), 2);
    expect(tail.map((l) => [l.line, l.stream])).toEqual([
      [`${tag}-2`, 'stdout'],
      [`${tag}-3`, 'stdout'],
    ]);
    const after = container.logs({ after: tail[0]!.id, timeoutMs: 1_500 });
    expect((await take(after, 1))[0]?.line).toBe(`${tag}-3`);
    await expect(after.next()).rejects.toBeInstanceOf(BerthTimeoutError);
  }, 30_000);

  test('a container that does not exist is CONTAINER_NOT_FOUND at once, not retried', async () => {
    const missing = await berth.containers.create();
    await missing.delete();
    const started = Date.now();
    await expect(missing.logs({ reconnect: { delayMs: 1_000 } }).next()).rejects.toMatchObject({ code: 'CONTAINER_NOT_FOUND' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('container.terminal', () => {
  test('type, see the echo, resize, exit code', async () => {
    const term = await container.terminal({ cols: 100, rows: 30 });
    let output = '';
    const seen = (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`never saw ${re}: ${JSON.stringify(output.slice(-300))}`)), 10_000);
        const check = () => {
          if (re.test(output)) {
            clearTimeout(timer);
            stop();
            resolve();
          }
        };
        const stop = term.onData((d) => {
          output += Buffer.from(d).toString('utf8');
          check();
        });
        check();
      });
    term.write('stty size\n');
    await seen(/30 100/);
    term.resize(120, 40);
    term.write('stty size; echo "ma""rk"\n');
    await seen(/40 120\s+mark/);
    term.write('exit 5\n');
    await expect(term.exited).resolves.toEqual({ code: 5 });
    expect(term.closed).toBe(true);
  });

  test('the async iterator yields output and ends when the shell exits', async () => {
    const term = await container.terminal();
    term.write('echo "it""er"; exit\n');
    let text = '';
    for await (const chunk of term) text += Buffer.from(chunk).toString('utf8');
    expect(text).toContain('iter');
    expect((await term.exited).code).toBe(0);
  });

  test('a missing container fails before any socket, with its code', async () => {
    const gone = await berth.containers.create();
    await gone.delete();
    const err = await gone.terminal().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthApiError);
    expect(err).toMatchObject({ code: 'CONTAINER_NOT_FOUND' });
    await expect(container.terminal({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(BerthAbortError);
  });
});
