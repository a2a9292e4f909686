import { WS_MAX_MESSAGE_BYTES } from '@berth/contracts';
import { createLogger, type Logger } from '@berth/service-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { AUTH, ID, TICKET, build, singleUseTicket } from './helpers.js';
import { FakeStreams, type FakeStream } from './fake-streams.js';

const URL = `/api/containers/${ID}/terminal`;
const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function terminal(onOpen: (s: FakeStream) => void = () => undefined, logger?: Logger) {
  const streams = new FakeStreams(onOpen);
  const { app } = await build({ ticketRedeem: singleUseTicket() }, { streams, logger });
  apps.push(app);
  await app.ready(); // injectWS needs the upgrade listener, installed on ready
  return { app, streams };
}

function collect(ws: WebSocket) {
  const got = { binary: [] as string[], text: [] as unknown[], close: new Promise<number>((r) => ws.once('close', (code) => r(code))) };
  ws.on('message', (d: Buffer, isBinary: boolean) => {
    if (isBinary) got.binary.push(d.toString());
    else got.text.push(JSON.parse(d.toString()));
  });
  return got;
}

const until = async (fn: () => boolean) => {
  for (let i = 0; i < 100 && !fn(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('GET /terminal (WebSocket)', () => {
  it('a client frame over the size limit closes with 1009 and logs one warning line, no error or stack', async () => {
    const lines: string[] = [];
    const { app, streams } = await terminal(
      undefined,
      createLogger('gateway', 'info', {
        write: (l: string) => {
          lines.push(l);
        },
      }),
    );
    const ws = await app.injectWS(URL, { headers: AUTH });
    const got = collect(ws);
    await until(() => streams.opened.length === 1);
    ws.send(Buffer.alloc(WS_MAX_MESSAGE_BYTES + 1, 0x61));
    expect(await got.close).toBe(1009);
    await until(() => lines.some((l) => l.includes('websocket')));
    const records = lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: unknown });
    const warnings = records.filter((r) => r.msg.includes('websocket'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' });
    expect(records.filter((r) => r.level >= 50)).toEqual([]);
    expect(lines.join('')).not.toContain('stack');
    // The shell ends too (within the gateway's close grace, not ws's 30 s close timeout).
    for (let i = 0; i < 40 && !streams.opened[0]!.closed; i++) await new Promise((r) => setTimeout(r, 100));
    expect(streams.opened[0]!.closed).toBe(true);
    expect(streams.opened[0]!.closed).toBe(true);
  });

  it('forwards keystrokes and resizes, sends output as binary frames (acked once sent), and the exit code', async () => {
    const { app, streams } = await terminal();
    const ws = await app.injectWS(URL, { headers: AUTH });
    const got = collect(ws);
    ws.send(Buffer.from('ls\n'));
    ws.send(JSON.stringify({ type: 'resize', cols: 120, rows: 40 }));
    await until(() => (streams.opened[0]?.controls.length ?? 0) === 2);
    const s = streams.opened[0]!;
    expect(s.data).toMatchObject({ id: ID, owner: 'default', cols: 80, rows: 24 });
    expect(s.controls).toEqual([
      { type: 'input', data: Buffer.from('ls\n').toString('base64') },
      { type: 'resize', cols: 120, rows: 40 },
    ]);
    s.emit({ type: 'pty', data: Buffer.from('file\r\n').toString('base64') });
    s.emit({ type: 'end', exitCode: 0, timedOut: false, cancelled: false, durationMs: 1 });
    expect(await got.close).toBe(1000);
    expect(got.binary).toEqual(['file\r\n']);
    expect(got.text).toEqual([{ type: 'exit', code: 0 }]);
    expect(s.acks).toEqual([1]);
  });

  it('closing the socket closes the stream (pool-manager kills the shell)', async () => {
    const { app, streams } = await terminal();
    const ws = await app.injectWS(URL, { headers: AUTH });
    await until(() => streams.opened.length === 1);
    ws.terminate();
    await until(() => streams.opened[0]!.closed);
    expect(streams.opened[0]!.closed).toBe(true);
  });

  it("text frames are keystrokes unless they are a berth control message (Artie's clients type in text frames)", async () => {
    const { app, streams } = await terminal();
    const ws = await app.injectWS(URL, { headers: AUTH });
    const typed = ['ls -la\n', '{"type":"shell","cmd":"rm -rf /"}', '{not json', '[1]', 'héllo'];
    for (const t of typed) ws.send(t);
    ws.send(JSON.stringify({ type: 'resize', cols: 100, rows: 30 }));
    await until(() => (streams.opened[0]?.controls.length ?? 0) === typed.length + 1);
    expect(streams.opened[0]!.controls).toEqual([
      ...typed.map((t) => ({ type: 'input', data: Buffer.from(t, 'utf8').toString('base64') })),
      { type: 'resize', cols: 100, rows: 30 },
    ]);
    expect(ws.readyState).toBe(ws.OPEN);
  });

  it('a control message of a berth type with bad fields closes with 1003', async () => {
    const { app } = await terminal();
    const ws = await app.injectWS(URL, { headers: AUTH });
    const got = collect(ws);
    ws.send('{"type":"resize","cols":0,"rows":24}');
    expect(await got.close).toBe(1003);
  });

  it('a ticket works once, as the owner it was minted for', async () => {
    const { app, streams } = await terminal();
    const ws = await app.injectWS(`${URL}?ticket=${TICKET}`);
    await until(() => streams.opened.length === 1);
    expect(streams.opened[0]!.data).toMatchObject({ owner: 'ticket-owner' });
    ws.terminate();
    await expect(app.injectWS(`${URL}?ticket=${TICKET}`)).rejects.toThrow(/401/);
    await expect(app.injectWS(URL)).rejects.toThrow(/401/);
    await expect(app.injectWS(URL, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).rejects.toThrow(/401/);
  });

  it("a browser's upgrade from another origin is refused unless CORS_ORIGINS lists it; the gateway's own origin is fine", async () => {
    const streams = new FakeStreams(() => undefined);
    const { app } = await build({ ticketRedeem: singleUseTicket() }, { streams, corsOrigins: ['http://app.test'] });
    apps.push(app);
    await app.ready();
    await expect(app.injectWS(URL, { headers: { ...AUTH, origin: 'http://evil.test' } })).rejects.toThrow(/403/);
    (await app.injectWS(URL, { headers: { ...AUTH, origin: 'http://app.test' } })).terminate();
    (await app.injectWS(URL, { headers: { ...AUTH, origin: 'http://localhost:80', host: 'localhost:80' } })).terminate();
  });

  it('a plain GET without an upgrade is refused', async () => {
    const { app } = await terminal();
    const res = await app.inject({ method: 'GET', url: URL, headers: AUTH });
    expect(res.statusCode).toBe(400);
  });
});
