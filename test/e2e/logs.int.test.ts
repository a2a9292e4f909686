import { execFileSync } from 'node:child_process';
import { LogEventSchema } from '@berth/contracts';
import { callApi } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { openSse, type SseMessage } from '../support/sse-client.js';

// Container output as a caller sees it: pool-manager, log-streamer and gateway as real processes.
let stack: LocalStack;
const auth = () => ({ authorization: `Bearer ${stack.token}` });

beforeAll(async () => {
  stack = await startLocalStack({
    POOLS: JSON.stringify([{ name: 'default', targetSize: 2, maxCreating: 2, memoryMb: 128, pids: 64 }]),
    MAX_CONTAINERS: '8',
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const api = (method: string, path: string, body?: unknown) => callApi(stack.url, stack.token, method, path, body);

async function claim(): Promise<string> {
  const r = await api('POST', '/api/containers', {});
  expect(r.status).toBe(201);
  return (JSON.parse(r.text) as { id: string }).id;
}

/** Runs `script` in the workspace with its output going to the container's own stdout (PID 1's). */
async function writeToContainerOutput(id: string, script: string): Promise<void> {
  const r = await api('POST', `/api/containers/${id}/exec`, { command: `(${script}) > /proc/1/fd/1 2> /proc/1/fd/2 < /dev/null`, timeout: 60_000 });
  expect(JSON.parse(r.text)).toMatchObject({ exitCode: 0 });
}

async function plain(id: string, query: string): Promise<string> {
  const r = await api('GET', `/api/containers/${id}/logs?follow=false${query}`);
  expect(r.status).toBe(200);
  return r.text;
}

async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const lineOf = (m: SseMessage) => LogEventSchema.parse(JSON.parse(m.data)).line;

describe('GET /api/containers/:id/logs', () => {
  test('100k lines written at full speed arrive over SSE complete and in order', async () => {
    const id = await claim();
    const lines: string[] = [];
    const ids: number[] = [];
    let done!: () => void;
    const all = new Promise<void>((r) => {
      done = r;
    });
    const conn = openSse(`${stack.url}/api/containers/${id}/logs`, auth(), (m) => {
      lines.push(lineOf(m));
      ids.push(Number(m.id));
      if (lines.length === 100_000) done();
    });
    expect(await conn.status).toBe(200);
    await writeToContainerOutput(id, 'seq 1 100000');
    await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${lines.length} lines`)), 60_000))]);
    conn.destroy();
    expect(lines.every((l, i) => l === String(i + 1))).toBe(true);
    expect(ids.every((v, i) => i === 0 || v > ids[i - 1]!)).toBe(true);
  }, 90_000);

  test('a reconnect with Last-Event-ID after a forced disconnect yields every line exactly once', async () => {
    const id = await claim();
    const total = 6000;
    await writeToContainerOutput(
      id,
      `nohup sh -c 'i=1; while [ $i -le ${total} ]; do echo $i; if [ $((i % 300)) -eq 0 ]; then sleep 0.05; fi; i=$((i+1)); done' &`,
    );
    const lines: string[] = [];
    let lastId: string | undefined;
    for (let connection = 0; lines.length < total && connection < 20; connection++) {
      const target = connection < 3 ? lines.length + 1500 : total;
      let drop: () => void = () => undefined;
      const conn = openSse(`${stack.url}/api/containers/${id}/logs`, { ...auth(), ...(lastId && { 'last-event-id': lastId }) }, (m) => {
        lines.push(lineOf(m));
        lastId = m.id;
        if (lines.length >= target) drop();
      });
      drop = () => conn.destroy();
      await Promise.race([conn.closed, new Promise((r) => setTimeout(r, 15_000))]);
      conn.destroy();
    }
    expect(lines.length).toBe(total);
    expect(lines.every((l, i) => l === String(i + 1))).toBe(true);
  }, 90_000);

  test('?follow=false, ?tail and ?since', async () => {
    const id = await claim();
    // stdout and stderr are copied separately: the pause keeps b stored before c.
    await writeToContainerOutput(id, 'echo a; echo b >&2; sleep 0.2; echo c');
    await eventually(
      'three lines',
      () => plain(id, ''),
      (t) => t.split('\n').length === 4,
    );
    expect((await plain(id, '')).split('\n').sort()).toEqual(['', 'a', 'b', 'c']);
    expect(await plain(id, '&tail=1')).toBe('c\n');
    expect(await plain(id, '&tail=0')).toBe('');
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await writeToContainerOutput(id, 'echo d; echo e');
    await eventually(
      'five lines',
      () => plain(id, ''),
      (t) => t.split('\n').length === 6,
    );
    expect(await plain(id, `&since=${encodeURIComponent(between)}`)).toBe('d\ne\n');
    expect(await plain(id, '&tail=2')).toBe('d\ne\n');
    const sse = await fetch(`${stack.url}/api/containers/${id}/logs?tail=1`, { headers: auth() });
    expect(sse.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await sse.body?.cancel();
  });

  test('404 for an unknown container and for one the caller has not claimed', async () => {
    expect((await api('GET', '/api/containers/ws_0000000000000000/logs')).status).toBe(404);
    const warm = execFileSync('docker', ['ps', '--filter', `label=berth.host=${stack.hostId}`, '--format', '{{.Label "berth.id"}} {{.Names}}'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((l) => l && !l.endsWith('-claimed'))
      .map((l) => l.split(' ')[0]!);
    expect(warm.length).toBeGreaterThan(0);
    const r = await api('GET', `/api/containers/${warm[0]}/logs?follow=false`);
    expect([r.status, JSON.parse(r.text).error.code]).toEqual([404, 'CONTAINER_NOT_FOUND']);
  });
});
