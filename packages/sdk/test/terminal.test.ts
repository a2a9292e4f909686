import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Berth, BerthApiError, BerthTimeoutError } from '../src/index.js';
import { VIEW } from './fake-gateway.js';

// container.terminal against a fake gateway: the ticket handshake, frames both ways, error frames.
const TICKET = 'T'.repeat(43);
let server: Server;
let wss: WebSocketServer;
let url: string;
let onSocket: (ws: WebSocket, protocols: string) => void = () => undefined;
const seenUrls: string[] = [];
let hangUpgrades = false;
const upgrades = new Set<Duplex>();

beforeAll(async () => {
  server = createServer((req, res) => {
    seenUrls.push(req.url ?? '');
    const send = (code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'GET' && req.url === `/api/containers/${VIEW.id}`) return send(200, VIEW);
    if (req.method === 'POST' && req.url === `/api/containers/${VIEW.id}/tickets`)
      return send(201, { ticket: TICKET, expiresAt: new Date(Date.now() + 30_000).toISOString() });
    return send(404, { error: { code: 'ROUTE_NOT_FOUND', message: 'no', retryable: false } });
  });
  wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('berth.terminal.v1') ? 'berth.terminal.v1' : false) });
  server.on('upgrade', (req, socket, head) => {
    seenUrls.push(req.url ?? '');
    upgrades.add(socket);
    if (hangUpgrades) return; // never answers the upgrade
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws, String(req.headers['sec-websocket-protocol'])));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const c of wss.clients) c.terminate();
  for (const s of upgrades) s.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('container.terminal', () => {
  test('offers the ticket as a subprotocol, never in the URL; bytes, resize and the exit code', async () => {
    const received: unknown[] = [];
    let protocols = '';
    onSocket = (ws, p) => {
      protocols = p;
      ws.on('message', (data: Buffer, binary: boolean) => {
        received.push(binary ? `bytes:${data.toString()}` : JSON.parse(data.toString()));
        if (binary) {
          ws.send(Buffer.from(`echo:${data.toString()}`), { binary: true });
          ws.send(JSON.stringify({ type: 'exit', code: 3 }));
          ws.close(1000);
        }
      });
    };
    const c = await new Berth({ url, apiKey: 'k-secret-terminal' }).containers.get(VIEW.id);
    const term = await c.terminal({ cols: 90, rows: 20 });
    const out: string[] = [];
    term.onData((d) => out.push(Buffer.from(d).toString()));
    term.resize(100, 30);
    term.write('hi');
    await expect(term.exited).resolves.toEqual({ code: 3 });
    expect(out.join('')).toBe('echo:hi');
    expect(received).toEqual([{ type: 'resize', cols: 100, rows: 30 }, 'bytes:hi']);
    expect(protocols).toBe(`berth.terminal.v1, berth.ticket.${TICKET}`);
    const wsUrl = seenUrls.find((u) => u.includes('/terminal'));
    expect(wsUrl).toBe(`/api/containers/${VIEW.id}/terminal?cols=90&rows=20`);
    expect(seenUrls.join(' ')).not.toContain('k-secret-terminal');
  });

  test('an error frame rejects exited with a BerthApiError of that code', async () => {
    onSocket = (ws) => {
      ws.send(JSON.stringify({ type: 'error', code: 'CONTAINER_NOT_RUNNING', message: 'stopped' }));
      ws.close(1011);
    };
    const c = await new Berth({ url, apiKey: 'k' }).containers.get(VIEW.id);
    const term = await c.terminal();
    const err = await term.exited.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthApiError);
    expect(err).toMatchObject({ code: 'CONTAINER_NOT_RUNNING', status: 409 });
  });

  test('output that arrives before anyone listens is kept for the first reader', async () => {
    onSocket = (ws) => {
      ws.send(Buffer.from('early'), { binary: true });
      setTimeout(() => ws.close(1000), 50);
    };
    const c = await new Berth({ url, apiKey: 'k' }).containers.get(VIEW.id);
    const term = await c.terminal();
    await new Promise((r) => setTimeout(r, 20));
    let text = '';
    for await (const chunk of term) text += Buffer.from(chunk).toString();
    expect(text).toBe('early');
    await expect(term.exited).resolves.toEqual({ code: null });
  });
});

test('opening is bounded by timeoutMs, the ticket call included', async () => {
  const c = await new Berth({ url, apiKey: 'k' }).containers.get(VIEW.id);
  hangUpgrades = true;
  try {
    const started = Date.now();
    await expect(c.terminal({ timeoutMs: 300 })).rejects.toBeInstanceOf(BerthTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
  } finally {
    hangUpgrades = false;
  }
});
