import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BerthError } from '@berth/contracts';
import { waitFor } from '@berth/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ID, JSON_HEADERS, TICKET, build, singleUseTicket } from './helpers.js';
import { FakeStreams, type FakeStream } from './fake-streams.js';

const URL = `/api/containers/${ID}/exec?stream=true`;
const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function withStreams(onOpen: (s: FakeStream) => void | Promise<void>, execStreamKeepaliveMs?: number) {
  const streams = new FakeStreams(onOpen);
  const { app } = await build({ ticketRedeem: singleUseTicket() }, { streams, execStreamKeepaliveMs });
  apps.push(app);
  return { app, streams };
}

const finish = (s: FakeStream) => s.emit({ type: 'end', exitCode: 0, timedOut: false, cancelled: false, durationMs: 5 });

describe('POST /exec?stream=true', () => {
  it('writes NDJSON events in order, acks each one, and ends with the exit code', async () => {
    const { app, streams } = await withStreams((s) => {
      s.emit({ type: 'out', stream: 'stdout', text: 'a\n' });
      s.emit({ type: 'out', stream: 'stderr', text: 'b\n' });
      finish(s);
    });
    const res = await app.inject({ method: 'POST', url: URL, headers: JSON_HEADERS, payload: { command: 'x', env: { A: '1' }, cwd: '/tmp', timeout: 5000 } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    expect(
      res.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { type: 'stdout', data: 'a\n' },
      { type: 'stderr', data: 'b\n' },
      { type: 'exit', exitCode: 0, timedOut: false, durationMs: 5 },
    ]);
    const [s] = streams.opened;
    expect(s!.data).toMatchObject({ id: ID, owner: 'default', command: 'x', env: { A: '1' }, cwd: '/tmp', timeoutMs: 5000 });
    expect(s!.acks).toEqual([1, 2]);
  });

  it('speaks SSE when the client accepts text/event-stream', async () => {
    const { app } = await withStreams((s) => {
      s.emit({ type: 'out', stream: 'stdout', text: 'hi\n' });
      finish(s);
    });
    const res = await app.inject({ method: 'POST', url: URL, headers: { ...JSON_HEADERS, accept: 'text/event-stream' }, payload: { command: 'x' } });
    expect(res.headers['content-type']).toContain('text/event-stream');
    expect(res.body).toBe(
      'id: 1\nevent: stdout\ndata: {"type":"stdout","data":"hi\\n"}\n\n' +
        'id: 2\nevent: exit\ndata: {"type":"exit","exitCode":0,"timedOut":false,"durationMs":5}\n\n',
    );
  });

  it('a browser streams with a single-use ?ticket= as its owner; a plain exec or a reused ticket is 401', async () => {
    const { app, streams } = await withStreams((s) => {
      s.emit({ type: 'out', stream: 'stdout', text: 'hi\n' });
      finish(s);
    });
    const json = { 'content-type': 'application/json' };
    const res = await app.inject({ method: 'POST', url: `${URL}&ticket=${TICKET}`, headers: json, payload: { command: 'x' } });
    expect(res.statusCode).toBe(200);
    expect(
      res.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { type: 'stdout', data: 'hi\n' },
      { type: 'exit', exitCode: 0, timedOut: false, durationMs: 5 },
    ]);
    expect(streams.opened[0]!.data).toMatchObject({ id: ID, owner: 'ticket-owner' });
    const reused = await app.inject({ method: 'POST', url: `${URL}&ticket=${TICKET}`, headers: json, payload: { command: 'x' } });
    expect(reused.statusCode).toBe(401);
    const plain = await app.inject({ method: 'POST', url: `/api/containers/${ID}/exec?ticket=${'U'.repeat(43)}`, headers: json, payload: { command: 'x' } });
    expect(plain.statusCode).toBe(401);
    expect(streams.opened).toHaveLength(1);
  });

  it('an error while opening is a plain error response', async () => {
    const { app } = await withStreams(() => {
      throw new BerthError('CONTAINER_NOT_FOUND', 'no container');
    });
    const res = await app.inject({ method: 'POST', url: URL, headers: JSON_HEADERS, payload: { command: 'x' } });
    expect([res.statusCode, res.json().error.code]).toEqual([404, 'CONTAINER_NOT_FOUND']);
  });

  it('a bad env is refused before anything runs', async () => {
    const { app, streams } = await withStreams(() => undefined);
    const res = await app.inject({ method: 'POST', url: URL, headers: JSON_HEADERS, payload: { command: 'x', env: { '1X': 'y' } } });
    expect(res.statusCode).toBe(400);
    expect(streams.opened).toHaveLength(0);
  });

  it('acks only what the socket took: a client that does not read stops the acks, and leaving cancels', async () => {
    const big = 'x'.repeat(256 * 1024);
    const { app, streams } = await withStreams((s) => {
      for (let i = 0; i < 40; i++) s.emit({ type: 'out', stream: 'stdout', text: big });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: URL, headers: JSON_HEADERS });
    const res = await new Promise<IncomingMessage>((resolve) => {
      req.on('response', resolve);
      req.end('{"command":"x"}');
    });
    res.pause();
    await new Promise((r) => setTimeout(r, 300));
    const s = streams.opened[0]!;
    expect(s.acks.length).toBeLessThan(40);
    expect(s.closed).toBe(false);
    res.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect(s.closed).toBe(true);
  });

  it('a client that leaves while the command is starting still cancels it', async () => {
    const { app, streams } = await withStreams(() => new Promise((r) => setTimeout(r, 200)));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: URL, headers: JSON_HEADERS });
    req.on('error', () => undefined);
    req.end('{"command":"x"}');
    // Left while the open (200 ms) is still pending: however long the request took to arrive.
    const opened = await waitFor('the stream to be opening', () => streams.opened[0], 5_000, 5);
    req.destroy();
    await waitFor('the stream to be closed', () => opened.closed, 5_000, 10);
  });

  describe.each([
    ['NDJSON', 'application/x-ndjson', '\n'],
    ['SSE', 'text/event-stream', ': keepalive\n\n'],
  ])('a silent command (%s)', (_name, accept, keepalive) => {
    it('gets its headers at once and a keepalive while it says nothing, and only then its output', async () => {
      let stream: FakeStream | undefined;
      const { app } = await withStreams((s) => {
        stream = s;
      }, 100);
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: URL, headers: { ...JSON_HEADERS, accept } });
      const started = performance.now();
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        req.on('response', resolve);
        req.on('error', reject);
        req.end('{"command":"sleep 60"}');
        setTimeout(() => reject(new Error('no headers within 2 s while the command is silent')), 2_000).unref();
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain(accept);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      await new Promise((r) => setTimeout(r, 450));
      expect(body.length, 'keepalives in ~450 ms of silence at a 100 ms interval').toBeGreaterThanOrEqual(2 * keepalive.length);
      expect(body).toBe(keepalive.repeat(body.length / keepalive.length));
      stream!.emit({ type: 'out', stream: 'stdout', text: 'late\n' });
      finish(stream!);
      await new Promise((r) => res.on('end', r));
      expect(body).toContain('late');
      expect(performance.now() - started).toBeLessThan(5_000);
    });
  });
});
