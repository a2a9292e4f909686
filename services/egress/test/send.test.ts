import { CALLBACK_HEADERS, LEGACY_CALLBACK_HEADERS } from '@berth/contracts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { sendAttempt } from '../src/callbacks/send.js';
import { callbackKey, signCallback } from '../src/callbacks/signature.js';
import { parseCidrs } from '../src/config.js';
import { AddressPolicy } from '../src/ssrf/addresses.js';
import { SsrfGuard, type Resolver } from '../src/ssrf/guard.js';

// Loopback HTTP servers only (no network). 127.0.0.1 is allowed as CALLBACK_ALLOW_CIDRS allows it in tests.
const servers: Server[] = [];
async function receiver(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ port: number; hits: number }> {
  const state = { port: 0, hits: 0 };
  const s = createServer((req, res) => {
    state.hits++;
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => handle(req, res, body));
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  state.port = (s.address() as AddressInfo).port;
  return state;
}
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise((r) => {
          s.closeAllConnections();
          s.close(r);
        }),
    ),
  );
});

const resolver: Resolver = async (h) => ({ 'hooks.example.com': ['127.0.0.1'], 'mixed.example.com': ['127.0.0.1', '10.0.0.1'] })[h] ?? [];
const guard = new SsrfGuard(new AddressPolicy(parseCidrs('127.0.0.1/32')), resolver);
const SECRET = 'callback-secret-0123456789';
const attempt = (url: string) => ({ url, secret: SECRET, body: '{"id":"ws_1","seq":1}', eventId: 'ws_1:1', attempt: 2 });
const live = () => new AbortController().signal;

describe('one callback attempt', () => {
  it('POSTs the body with the Standard Webhooks headers (and the deprecated x-berth-* ones); connects to the checked address', async () => {
    let seen: { headers: IncomingMessage['headers']; body: string; url: string | undefined } | undefined;
    const r = await receiver((req, res, body) => {
      seen = { headers: req.headers, body, url: req.url };
      res.writeHead(204).end();
    });
    // hooks.example.com is not in any real DNS as 127.0.0.1: reaching the receiver proves the pinned lookup.
    const result = await sendAttempt(guard, attempt(`http://hooks.example.com:${r.port}/hook?x=1`), 2_000, live());
    expect(result).toEqual({ ok: true, status: 204 });
    expect(seen!.url).toBe('/hook?x=1');
    expect(seen!.body).toBe('{"id":"ws_1","seq":1}');
    expect(seen!.headers.host).toBe(`hooks.example.com:${r.port}`);
    const h = (name: string) => String(seen!.headers[name]);
    const ts = Number(h(CALLBACK_HEADERS.timestamp));
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(5);
    expect(h(CALLBACK_HEADERS.id)).toBe('ws_1:1');
    const standard = Object.fromEntries(Object.values(CALLBACK_HEADERS).map((name) => [name, h(name)]));
    expect(new Webhook(new TextEncoder().encode(SECRET), { format: 'raw' }).verify(seen!.body, standard)).toEqual({ id: 'ws_1', seq: 1 });
    expect(h(LEGACY_CALLBACK_HEADERS.timestamp)).toBe(String(ts));
    expect(h(LEGACY_CALLBACK_HEADERS.signature)).toBe(signCallback(SECRET, ts, seen!.body));
    expect(h(LEGACY_CALLBACK_HEADERS.eventId)).toBe('ws_1:1');
    expect(h(LEGACY_CALLBACK_HEADERS.attempt)).toBe('2');
    expect(JSON.stringify(seen!.headers)).not.toContain(SECRET);
  });

  it('signs with the key bytes: a whsec_ secret decoded, a plain secret as UTF-8', () => {
    const raw = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(callbackKey(`whsec_${Buffer.from(raw).toString('base64')}`)).toEqual(raw);
    expect(Buffer.from(callbackKey('secret123')).toString()).toBe('secret123');
    expect(Buffer.from(callbackKey('clé')).toString('hex')).toBe('636cc3a9');
    expect(() => callbackKey('whsec_not base64')).toThrow('invalid callback secret');
  });

  it('never follows a redirect, even to an allowed address: a 3xx is a failed attempt', async () => {
    const target = await receiver((_q, res) => res.writeHead(200).end());
    const r = await receiver((_q, res) => res.writeHead(302, { location: `http://127.0.0.1:${target.port}/` }).end());
    expect(await sendAttempt(guard, attempt(`http://127.0.0.1:${r.port}/`), 2_000, live())).toEqual({ ok: false, reason: 'HTTP 302' });
    expect(target.hits).toBe(0);
  });

  it('refuses before connecting when any resolved address is refused', async () => {
    const r = await receiver((_q, res) => res.writeHead(200).end());
    const result = await sendAttempt(guard, attempt(`http://mixed.example.com:${r.port}/`), 2_000, live());
    expect(result).toEqual({ ok: false, reason: 'refused: host name resolves to a private address' });
    expect(r.hits).toBe(0);
  });

  it('a non-2xx, a timeout and a refused connection are failed attempts', async () => {
    const err = await receiver((_q, res) => res.writeHead(500).end());
    expect(await sendAttempt(guard, attempt(`http://127.0.0.1:${err.port}/`), 2_000, live())).toEqual({ ok: false, reason: 'HTTP 500' });
    const hang = await receiver(() => undefined);
    expect(await sendAttempt(guard, attempt(`http://127.0.0.1:${hang.port}/`), 200, live())).toEqual({ ok: false, reason: 'timed out' });
    const closed = await receiver(() => undefined);
    await new Promise((r) => servers.pop()!.close(r));
    expect(await sendAttempt(guard, attempt(`http://127.0.0.1:${closed.port}/`), 2_000, live())).toEqual({ ok: false, reason: 'ECONNREFUSED' });
  });
});
