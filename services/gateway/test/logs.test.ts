import { request as httpRequest, type IncomingMessage } from 'node:http';
import { BerthError, LogEventSchema } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { EndlessLogReader, FakeLogReader } from './fake-log-reader.js';
import { AUTH, ID, build, containerView } from './helpers.js';
import type { LogReader } from '../src/logs/log-reader.js';

let app: FastifyInstance | undefined;
afterEach(async () => { await app?.close(); app = undefined; });

async function withLogs(logs: LogReader, visible = true) {
  const built = await build({
    containerGet: ({ id }) => {
      if (!visible || id !== ID) throw new BerthError('CONTAINER_NOT_FOUND', 'container not found');
      return containerView(id);
    },
  }, { logs });
  app = built.app;
  return built;
}

interface SseEvent { id: number; event: string; data: unknown }

/** Opens the SSE route on a listening app and collects events until `until` says stop. */
async function sse(path: string, headers: Record<string, string>, until: (events: SseEvent[]) => boolean): Promise<{ res: IncomingMessage; events: SseEvent[] }> {
  const address = await app!.listen({ port: 0, host: '127.0.0.1' });
  const url = new URL(path, address);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { ...AUTH, ...headers } }, (res) => {
      const events: SseEvent[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
          if (fields.id !== undefined) events.push({ id: Number(fields.id), event: String(fields.event), data: JSON.parse(String(fields.data)) });
        }
        if (until(events)) { req.destroy(); resolve({ res, events }); }
      });
      res.on('end', () => resolve({ res, events }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /api/containers/:id/logs', () => {
  it('answers 404 for a container the caller cannot see, before reading any log', async () => {
    const logs = new FakeLogReader();
    await withLogs(logs, false);
    for (const id of [ID, 'ws_ffffffffffffffff', 'nope']) {
      const res = await app!.inject({ url: `/api/containers/${id}/logs?follow=false`, headers: AUTH });
      expect([res.statusCode, res.json().error.code]).toEqual([404, 'CONTAINER_NOT_FOUND']);
    }
    expect(logs.reads).toEqual([]);
  });

  it('needs the bearer token', async () => {
    await withLogs(new FakeLogReader());
    expect((await app!.inject({ url: `/api/containers/${ID}/logs` })).statusCode).toBe(401);
  });

  it('?follow=false answers plain text; pieces of a split line are joined', async () => {
    const logs = new FakeLogReader();
    logs.add('one');
    logs.add('long-', 'stdout', undefined, true);
    logs.add('line');
    logs.add('err', 'stderr');
    await withLogs(logs);
    const res = await app!.inject({ url: `/api/containers/${ID}/logs?follow=false`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toBe('one\nlong-line\nerr\n');
  });

  it('passes ?tail and ?since on, and refuses bad queries', async () => {
    const logs = new FakeLogReader();
    for (const l of ['a', 'b', 'c']) logs.add(l);
    await withLogs(logs);
    expect((await app!.inject({ url: `/api/containers/${ID}/logs?follow=false&tail=2`, headers: AUTH })).body).toBe('b\nc\n');
    const since = '2026-01-01T00:00:00Z';
    await app!.inject({ url: `/api/containers/${ID}/logs?follow=false&since=${since}`, headers: AUTH });
    expect(logs.reads.map((r) => r.start)).toEqual([{ kind: 'tail', lines: 2 }, { kind: 'since', at: new Date(since) }]);
    for (const q of ['tail=-1', 'tail=x', 'since=yesterday', 'follow=maybe', 'color=red']) {
      const res = await app!.inject({ url: `/api/containers/${ID}/logs?${q}`, headers: AUTH });
      expect(res.statusCode, q).toBe(400);
    }
    const bad = await app!.inject({ url: `/api/containers/${ID}/logs`, headers: { ...AUTH, 'last-event-id': 'abc' } });
    expect(bad.statusCode).toBe(400);
  });

  it('follows as Server-Sent Events with the stream sequence as id, and resumes after Last-Event-ID', async () => {
    const logs = new FakeLogReader();
    logs.add('first');
    await withLogs(logs);
    setTimeout(() => { logs.add('second', 'stderr'); logs.add('third'); }, 50);
    const { res, events } = await sse(`/api/containers/${ID}/logs`, {}, (ev) => ev.length >= 3);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(events.map((e) => [e.id, e.event])).toEqual([[1, 'log'], [2, 'log'], [3, 'log']]);
    expect(events.map((e) => LogEventSchema.parse(e.data))).toMatchObject([
      { stream: 'stdout', line: 'first' }, { stream: 'stderr', line: 'second' }, { stream: 'stdout', line: 'third' },
    ]);
    logs.add('fourth');
    await app!.close();
    app = undefined;
    await withLogs(logs);
    const resumed = await sse(`/api/containers/${ID}/logs`, { 'last-event-id': '2' }, (ev) => ev.length >= 2);
    expect(resumed.events.map((e) => (e.data as { line: string }).line)).toEqual(['third', 'fourth']);
    expect(logs.reads.at(-1)?.start).toEqual({ kind: 'after', seq: 2 });
  });

  it('pulls no further than a slow client reads', async () => {
    const logs = new EndlessLogReader();
    await withLogs(logs);
    const address = await app!.listen({ port: 0, host: '127.0.0.1' });
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(new URL(`/api/containers/${ID}/logs`, address), { headers: AUTH }, resolve);
      req.on('error', reject);
      req.end();
    });
    res.pause();
    await new Promise((r) => setTimeout(r, 300));
    const stalled = logs.pulled;
    await new Promise((r) => setTimeout(r, 300));
    // Socket buffers hold a few MB at most; an unbounded gateway would have pulled millions by now.
    expect(logs.pulled).toBe(stalled);
    expect(stalled).toBeLessThan(50_000);
    res.destroy();
  });

  it('a client that stalls and then reads again gets every line', async () => {
    const logs = new FakeLogReader();
    for (let i = 1; i <= 50_000; i++) logs.add(`${i} ${'y'.repeat(100)}`);
    await withLogs(logs);
    const address = await app!.listen({ port: 0, host: '127.0.0.1' });
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(new URL(`/api/containers/${ID}/logs?follow=false`, address), { headers: AUTH }, (res) => {
        res.pause();
        setTimeout(() => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.resume();
        }, 200);
      });
      req.on('error', reject);
      req.end();
    });
    const lines = body.split('\n');
    expect(lines).toHaveLength(50_001);
    expect(lines.every((l, i) => i === 50_000 || l.startsWith(`${i + 1} `))).toBe(true);
  });
});
