import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { BerthError } from '@berth/contracts';
import { createLogger } from '@berth/service-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { AUTH, ID, JSON_HEADERS, build, containerView, type FakeBackend } from './helpers.js';

const OWNER = 'default';
const SECRET = 'S'.repeat(20) + 'canary' + 'x'.repeat(17);
const DOMAIN = 'preview.test';
const HOST = `3000-${ID}.${DOMAIN}`;

/** A dev server: echoes what it saw, streams on /stream, sets cookies on /cookie, and a WebSocket echo. */
async function devServer(): Promise<{ server: Server; port: number; seen: IncomingHttpHeaders[]; release: () => void }> {
  const seen: IncomingHttpHeaders[] = [];
  let release: () => void = () => undefined;
  const server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      release = () => res.end('data: last\n\n');
      return;
    }
    if (req.url === '/cookie') {
      res.writeHead(200, { 'set-cookie': ['sid=1; Domain=preview.test; Path=/', 'berth_preview=stolen; Path=/'], 'clear-site-data': '"storage"' });
      res.end('ok');
      return;
    }
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'sid=evil; Path=/' });
      res.end(JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, body }));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    seen.push(req.headers);
    ws.on('message', (m: Buffer) => ws.send(`echo:${m.toString()}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, seen, release: () => release() };
}

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function wsEcho(url: string, headers: Record<string, string>, extra: { protocols?: string[] } = {}): Promise<string> {
  const ws = new WebSocket(url, extra.protocols ?? [], { headers });
  await once(ws, 'open');
  ws.send('hi');
  const [msg] = (await once(ws, 'message')) as [Buffer];
  ws.close();
  return msg.toString();
}

describe('previews', () => {
  let dev: Awaited<ReturnType<typeof devServer>>;
  let app: FastifyInstance;
  let backend: FakeBackend;
  let port: number;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  let revoked = false;

  beforeAll(async () => {
    dev = await devServer();
    ({ app, backend } = await build(
      {
        containerGet: (req) => {
          if (req.id !== ID || req.owner !== OWNER) throw new BerthError('CONTAINER_NOT_FOUND', 'container not found');
          return { ...containerView(), ports: { '3000': dev.port, '4000': 1 } };
        },
        containerKeepalive: (req) => ({ id: req.id, idleTimeoutSeconds: 60, reapAt: new Date().toISOString() }),
        previewLinkCreate: (req) => ({
          previewId: 'pv_0123456789abcdef',
          id: req.id,
          port: req.port,
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
          secret: SECRET,
        }),
        previewLinkResolve: (req) => {
          if (req.secret !== SECRET || revoked) throw new BerthError('UNAUTHORIZED', 'preview link is unknown, revoked or expired');
          return { previewId: 'pv_0123456789abcdef', id: ID, owner: OWNER, port: 3000, expiresAt: new Date(Date.now() + 60_000).toISOString() };
        },
      },
      { logger: createLogger('gateway', 'trace', sink), preview: { domain: DOMAIN, activityEveryMs: 60_000 } },
    ));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app.close();
    dev.server.closeAllConnections();
    dev.server.close();
  });

  const base = `/api/containers/${ID}/preview/3000`;

  it('path form: proxies to the published port with Host rewritten and no berth credential, cookie or caller X-Forwarded-*', async () => {
    const res = await get(port, `${base}/a/b?q=1`, {
      ...AUTH,
      cookie: 'dash=1',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-host': 'evil',
      connection: 'x-secret',
      'x-secret': '1',
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ method: 'GET', url: '/a/b?q=1', host: 'localhost:3000' });
    const saw = dev.seen.at(-1)!;
    expect(saw.authorization).toBeUndefined();
    expect(saw.cookie).toBeUndefined();
    expect(saw['x-secret']).toBeUndefined();
    expect(saw['x-forwarded-for']).toBe('127.0.0.1');
    expect(saw['x-forwarded-host']).toBe(`127.0.0.1:${port}`);
    // The workspace cannot set cookies on the API's origin, and its page runs sandboxed.
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['content-security-policy']).toMatch(/^sandbox /);
  });

  it('path form: pipes request bodies of any type and methods other than GET', async () => {
    const res = await get(port, `${base}/upload`, { ...AUTH, 'content-type': 'text/plain' }, 'PUT', 'raw body');
    expect(JSON.parse(res.body)).toMatchObject({ method: 'PUT', body: 'raw body' });
  });

  it('path form: streams the answer without buffering it', async () => {
    const first = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: `${base}/stream`, headers: AUTH }, (res) => {
        res.once('data', (c: Buffer) => {
          resolve(c.toString());
          res.resume();
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(first).toBe('data: first\n\n');
    dev.release();
  });

  it('path form: WebSocket upgrades reach the dev server; berth tickets in the subprotocol do not', async () => {
    expect(await wsEcho(`ws://127.0.0.1:${port}${base}/hmr`, AUTH, { protocols: ['vite-hmr'] })).toBe('echo:hi');
    expect(dev.seen.at(-1)!['sec-websocket-protocol']).toBe('vite-hmr');
    expect(dev.seen.at(-1)!.authorization).toBeUndefined();
  });

  it("needs the key, and the container must be the caller's", async () => {
    expect((await get(port, `${base}/`)).status).toBe(401);
    backend.handlers.containerGet = () => {
      throw new BerthError('CONTAINER_NOT_FOUND', 'container not found');
    };
    const res = await get(port, `${base}/`, AUTH);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body).error.code).toBe('CONTAINER_NOT_FOUND');
    backend.handlers.containerGet = (req) => ({ ...containerView(req.id), ports: { '3000': dev.port, '4000': 1 } });
  });

  it('refuses ports that are not published or not ports, whatever the spelling (404 with a code)', async () => {
    for (const p of ['3001', '0', '03000', '3000abc', '99999', '-1', '..%2F3000', '3000%2F..', '1e3', '127.0.0.1:3000']) {
      const res = await get(port, `/api/containers/${ID}/preview/${p}/`, AUTH);
      expect(res.status, p).toBe(404);
      expect(JSON.parse(res.body).error.code, p).toBe('PREVIEW_PORT_NOT_PUBLISHED');
    }
  });

  it('a published port nothing listens on is a retryable 502 with a code', async () => {
    const res = await get(port, `/api/containers/${ID}/preview/4000/`, AUTH);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'PREVIEW_UPSTREAM_UNREACHABLE', retryable: true });
  });

  it('share link (path form, no preview domain): works without a key, HTTP and WebSocket; a revoke ends it', async () => {
    const { app: plain } = await build(
      {
        containerGet: () => ({ ...containerView(), ports: { '3000': dev.port } }),
        previewLinkCreate: (req) => ({
          previewId: 'pv_0123456789abcdef',
          id: req.id,
          port: req.port,
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
          secret: SECRET,
        }),
        previewLinkResolve: backend.handlers.previewLinkResolve!,
        containerKeepalive: backend.handlers.containerKeepalive!,
      },
      { logger: createLogger('gateway', 'trace', sink) },
    );
    await plain.listen({ host: '127.0.0.1', port: 0 });
    const p = (plain.server.address() as AddressInfo).port;
    const created = await get(p, `/api/containers/${ID}/previews`, JSON_HEADERS, 'POST', JSON.stringify({ port: 3000, expiresInSeconds: 60 }));
    expect(created.status).toBe(201);
    const { url } = JSON.parse(created.body) as { url: string };
    expect(url).toBe(`http://127.0.0.1:${p}/preview/s/${SECRET}/`);
    const page = await get(p, `/preview/s/${SECRET}/page?x=1`);
    expect(JSON.parse(page.body)).toMatchObject({ url: '/page?x=1', host: 'localhost:3000' });
    // The secret in the path is the credential: a sandboxed page's socket (Origin null) opens.
    expect(await wsEcho(`ws://127.0.0.1:${p}/preview/s/${SECRET}/ws`, { origin: 'null' })).toBe('echo:hi');
    expect((await get(p, `/preview/s/${'A'.repeat(43)}/`)).status).toBe(401);
    revoked = true;
    expect((await get(p, `/preview/s/${SECRET}/`)).status).toBe(401);
    revoked = false;
    await plain.close();
  });

  it('host form: a share link is exchanged for a host-only cookie, which then opens HTTP and WebSocket', async () => {
    const created = await get(port, `/api/containers/${ID}/previews`, JSON_HEADERS, 'POST', JSON.stringify({ port: 3000, expiresInSeconds: 60 }));
    const { url } = JSON.parse(created.body) as { url: string };
    expect(url).toBe(`http://${HOST}:${port}/?berth_preview_token=${SECRET}`);
    const first = await get(port, `/?berth_preview_token=${SECRET}&a=1`, { host: `${HOST}:${port}` });
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/?a=1');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/^berth_preview=.+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const jar = `berth_preview=${SECRET}; app=1`;
    const page = await get(port, '/src/main.ts', { host: HOST, cookie: jar });
    expect(JSON.parse(page.body)).toMatchObject({ url: '/src/main.ts', host: 'localhost:3000' });
    // The workspace gets its own cookies, never berth's.
    expect(dev.seen.at(-1)!.cookie).toBe('app=1');
    expect(await wsEcho(`ws://127.0.0.1:${port}/hmr`, { host: HOST, cookie: jar })).toBe('echo:hi');
    // The cookie is ambient: another page (a sibling workspace's host) cannot open a socket with it.
    await expect(wsEcho(`ws://127.0.0.1:${port}/hmr`, { host: HOST, cookie: jar, origin: `http://3000-ws_fedcba9876543210.${DOMAIN}` })).rejects.toThrow(/403/);
    expect(await wsEcho(`ws://127.0.0.1:${port}/hmr`, { host: HOST, cookie: jar, origin: `http://${HOST}` })).toBe('echo:hi');
    // Its cookies stay on its own host and cannot replace berth's.
    const set = (await get(port, '/cookie', { host: HOST, cookie: jar })).headers;
    expect(set['set-cookie']).toEqual(['sid=1; Path=/']);
    expect(set['clear-site-data']).toBeUndefined();
    // Without a cookie, or another workspace's host: 401.
    expect((await get(port, '/', { host: HOST })).status).toBe(401);
    expect((await get(port, '/', { host: `3000-ws_fedcba9876543210.${DOMAIN}`, cookie: jar })).status).toBe(401);
    expect((await get(port, '/', { host: `3001-${ID}.${DOMAIN}`, cookie: jar })).status).toBe(401);
  });

  it('host form with the API key; Host header games do not reach a workspace', async () => {
    const page = await get(port, '/x', { host: HOST, ...AUTH });
    expect(JSON.parse(page.body)).toMatchObject({ url: '/x' });
    // Not under the preview domain: the API's own 404.
    for (const host of [`${HOST}.evil.com`, `x${HOST.slice(4)}`, `3000-${ID}.${DOMAIN}evil`, `3000-${ID}x${DOMAIN}`]) {
      const res = await get(port, '/x', { host, ...AUTH });
      expect(res.status, host).toBe(404);
      expect(res.body, host).not.toContain('localhost:3000');
    }
    const bad = await get(port, '/x', { host: `03000-${ID}.${DOMAIN}`, ...AUTH });
    expect(JSON.parse(bad.body).error.code).toBe('PREVIEW_PORT_NOT_PUBLISHED');
  });

  it('counts as activity at most once per workspace per window', async () => {
    expect(backend.callsTo('containerKeepalive').length).toBe(1);
  });

  it("never logs a share link's secret", () => {
    const out = lines.join('');
    expect(out).toContain('preview/s/[redacted]');
    expect(out).not.toContain('canary');
  });
});

describe('previews of a paused workspace', () => {
  it('resume it as an exec would (autoResume), or answer 409 CONTAINER_PAUSED when it may not be resumed', async () => {
    const dev = await devServer();
    let paused = true;
    let allowed = true;
    const resumes: unknown[] = [];
    const { app } = await build({
      containerGet: () => ({ ...containerView(), state: paused ? ('paused' as const) : ('claimed' as const), ports: { '3000': dev.port } }),
      containerResume: (req) => {
        resumes.push(req);
        if (!allowed) throw new BerthError('CONTAINER_PAUSED', `container ${req.id} is paused`);
        paused = false;
        return containerView();
      },
    });
    try {
      const ok = await app.inject({ method: 'GET', url: `/api/containers/${ID}/preview/3000/x`, headers: AUTH });
      // inject does not reach a real upstream socket here; what matters is that the resume came first, automatic.
      expect(resumes).toEqual([{ id: ID, owner: OWNER, auto: true }]);
      expect(ok.statusCode).not.toBe(409);
      paused = true;
      allowed = false;
      const refused = await app.inject({ method: 'GET', url: `/api/containers/${ID}/preview/3000/x`, headers: AUTH });
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({ error: { code: 'CONTAINER_PAUSED' } });
    } finally {
      await app.close();
      dev.server.close();
    }
  });
});
