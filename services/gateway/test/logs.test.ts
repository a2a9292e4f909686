import { request as httpRequest, type IncomingMessage } from 'node:http';
import { BerthError, LogEventSchema } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { EndlessLogReader, FakeLogReader } from './fake-log-reader.js';
import { AUTH, ID, TICKET, build, containerView, singleUseTicket } from './helpers.js';
import type { LogReader } from '../src/logs/log-reader.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function withLogs(logs: LogReader, visible = true) {
  const built = await build(
    {
      containerGet: ({ id }) => {
        if (!visible || id !== ID) throw new BerthError('CONTAINER_NOT_FOUND', 'container not found');
        return containerView(id);
      },
      ticketRedeem: singleUseTicket(),
    },
    { logs },
  );
  app = built.app;
  return built;
}

interface SseEvent {
  id: number;
  event: string;
  data: unknown;
}

/** Opens the SSE route on a listening app and collects events until `until` says stop. */
async function sse(
  path: string,
  headers: Record<string, string | undefined>,
  until: (events: SseEvent[]) => boolean,
): Promise<{ res: IncomingMessage; events: SseEvent[] }> {
  const address = await app!.listen({ port: 0, host: '127.0.0.1' });
  const url = new URL(path, address);
  return new Promise((resolve, reject) => {
    // A header given as undefined is left out (a browser's EventSource sends no Authorization).
    const sent = Object.fromEntries(Object.entries({ ...AUTH, ...headers }).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const req = httpRequest(url, { headers: sent }, (res) => {
      const events: SseEvent[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((l) => !l.startsWith(':'))
              .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
          );
          // An unnamed event is a `message` to EventSource.
          if (fields.id !== undefined) events.push({ id: Number(fields.id), event: fields.event ?? 'message', data: JSON.parse(String(fields.data)) });
        }
        if (until(events)) {
          req.destroy();
          resolve({ res, events });
        }
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

  it("a single-use ?ticket= opens the stream as its owner (a browser's EventSource); reused, it is 401", async () => {
    const logs = new FakeLogReader();
    logs.add('hello');
    const { backend } = await withLogs(logs);
    const { events } = await sse(`/api/containers/${ID}/logs?ticket=${TICKET}`, { authorization: undefined }, (ev) => ev.length >= 1);
    expect(events.map((e) => (e.data as { line: string }).line)).toEqual(['hello']);
    expect(backend.callsTo('containerGet').map((c) => c.data)).toEqual([{ id: ID, owner: 'ticket-owner' }]);
    const again = await app!.inject({ url: `/api/containers/${ID}/logs?ticket=${TICKET}` });
    expect([again.statusCode, again.json().error.code]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('the API token in ?token= is refused with a 401 that names the ticket route', async () => {
    await withLogs(new FakeLogReader());
    const res = await app!.inject({ url: `/api/containers/${ID}/logs?token=test-token-0123456789abcdef` });
    expect([res.statusCode, res.json().error.code]).toEqual([401, 'UNAUTHORIZED']);
    expect(res.json().error.message).toContain('POST /api/containers/{id}/tickets');
  });

  it('?after=<id> resumes like Last-Event-ID (a browser reconnecting with a new ticket cannot send that header)', async () => {
    const logs = new FakeLogReader();
    for (const l of ['a', 'b', 'c']) logs.add(l);
    await withLogs(logs);
    const { events } = await sse(`/api/containers/${ID}/logs?after=2`, {}, (ev) => ev.length >= 1);
    expect(events.map((e) => [e.id, (e.data as { line: string }).line])).toEqual([[3, 'c']]);
    expect(logs.reads.at(-1)?.start).toEqual({ kind: 'after', seq: 2 });
    const bad = await app!.inject({ url: `/api/containers/${ID}/logs?after=x`, headers: AUTH });
    expect(bad.statusCode).toBe(400);
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
    expect(logs.reads.map((r) => r.start)).toEqual([
      { kind: 'tail', lines: 2 },
      { kind: 'since', at: new Date(since) },
    ]);
    for (const q of ['tail=-1', 'tail=x', 'since=yesterday', 'follow=maybe', 'color=red']) {
      const res = await app!.inject({ url: `/api/containers/${ID}/logs?${q}`, headers: AUTH });
      expect(res.statusCode, q).toBe(400);
    }
    const bad = await app!.inject({ url: `/api/containers/${ID}/logs`, headers: { ...AUTH, 'last-event-id': 'abc' } });
    expect(bad.statusCode).toBe(400);
  });

  it('follows as unnamed Server-Sent Events (EventSource.onmessage) with line and ms timestamp, the stream sequence as id, and resumes after Last-Event-ID', async () => {
    const logs = new FakeLogReader();
    logs.add('first', 'stdout', '2026-02-17T10:30:56.789123456Z');
    await withLogs(logs);
    setTimeout(() => {
      logs.add('second', 'stderr');
      logs.add('third');
    }, 50);
    const { res, events } = await sse(`/api/containers/${ID}/logs`, {}, (ev) => ev.length >= 3);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(events.map((e) => [e.id, e.event])).toEqual([
      [1, 'message'],
      [2, 'message'],
      [3, 'message'],
    ]);
    expect(events.map((e) => LogEventSchema.parse(e.data))).toMatchObject([
      { stream: 'stdout', line: 'first', time: '2026-02-17T10:30:56.789123456Z', timestamp: Date.UTC(2026, 1, 17, 10, 30, 56, 789) },
      { stream: 'stderr', line: 'second' },
      { stream: 'stdout', line: 'third' },
    ]);
    for (const e of events) expect((e.data as { timestamp: number }).timestamp).toBe(Date.parse((e.data as { time: string }).time));
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
