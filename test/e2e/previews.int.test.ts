import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mintKey } from '@berth/gateway';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startDevServerCommand } from '../support/dev-server.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

// Preview URLs on the real stack: a dev server (HTTP + WebSocket) started via exec in a workspace,
// reached through the gateway in the path form (API key), the host form (BERTH_PREVIEW_DOMAIN) and
// share links (no key; expire; revoked), with the attacks a caller can try, and in headless Chromium
// the page's WebSocket reload message arrives through a share link.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DOMAIN = 'preview.localhost';
const alice = mintKey({ name: 'alice', owner: 'alice', scopes: ['read', 'write', 'exec'] });
const bob = mintKey({ name: 'bob', owner: 'bob', scopes: ['read', 'write', 'exec'] });
const NETWORK = `berth-pv-${randomBytes(3).toString('hex')}`;

let stack: LocalStack;
let gwPort = 0;
let id = '';
let browser: Browser | undefined;
const secrets: string[] = [];

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function call(path: string, o: { key?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.key) headers.authorization = `Bearer ${o.key}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const req = httpRequest({ host: '127.0.0.1', port: gwPort, path, method: o.method ?? 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body === undefined ? undefined : JSON.stringify(o.body));
  });
}

const codeOf = (a: Answer) => (JSON.parse(a.body) as { error?: { code: string } }).error?.code;

async function share(port: number, expiresInSeconds = 300): Promise<{ url: string; previewId: string; secret: string }> {
  const res = await call(`/api/containers/${id}/previews`, { key: alice.key, method: 'POST', body: { port, expiresInSeconds } });
  expect(res.status, res.body).toBe(201);
  const { url, previewId } = JSON.parse(res.body) as { url: string; previewId: string };
  const secret = /berth_preview_token=([A-Za-z0-9_-]{43})/.exec(url)?.[1] ?? /\/preview\/s\/([A-Za-z0-9_-]{43})\//.exec(url)?.[1] ?? '';
  secrets.push(secret);
  return { url, previewId, secret };
}

async function wsFirstMessages(path: string, headers: Record<string, string>, host?: string): Promise<string[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${gwPort}${path}`, { headers: { ...headers, ...(host && { host }) } });
  const got: string[] = [];
  ws.on('message', (m: Buffer) => got.push(m.toString()));
  await once(ws, 'open');
  ws.send('ping');
  while (got.length < 2) await once(ws, 'message');
  ws.close();
  return got;
}

// Evaluated in the page (this file is compiled without the DOM's types).
const STATUS_IS_HELLO = 'document.getElementById("status")?.textContent === "hello"';
const STATUS_IS_RELOAD = 'document.getElementById("status")?.textContent?.startsWith("reload:")';

const hostOf = (port: number) => `${port}-${id}.${DOMAIN}:${gwPort}`;

beforeAll(async () => {
  stack = await startLocalStack(
    {
      POOLS: JSON.stringify([{ name: 'default', targetSize: 0, maxCreating: 1, memoryMb: 128, pids: 64 }]),
      MAX_CONTAINERS: '2',
      WORKSPACE_NETWORK: NETWORK,
    },
    'info',
    { keys: [alice.entry, bob.entry], keepAllOutput: true, gatewayEnv: { BERTH_PREVIEW_DOMAIN: DOMAIN, PREVIEW_ACTIVITY_EVERY_MS: '1000' } },
  );
  gwPort = Number(new URL(stack.url).port);
  const created = await call('/api/containers', { key: alice.key, method: 'POST', body: { name: 'preview-app', ports: [3000, 3001] } });
  expect(created.status, created.body).toBe(201);
  id = (JSON.parse(created.body) as { id: string }).id;
  const started = await call(`/api/containers/${id}/exec`, { key: alice.key, method: 'POST', body: { command: startDevServerCommand(3000), timeout: 10_000 } });
  expect(started.status, started.body).toBe(200);
  // Ready when the gateway gets an answer through the published port.
  for (let i = 0; i < 100; i++) {
    if ((await call(`/api/containers/${id}/preview/3000/ready`, { key: alice.key })).status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  try {
    execFileSync('docker', ['network', 'rm', NETWORK], { stdio: 'ignore' });
  } catch {
    /* not made */
  }
});

describe('path form (API key)', () => {
  test("HTTP reaches the dev server as localhost:3000, without berth's key, cookies or a caller's X-Forwarded-For", async () => {
    const res = await call(`/api/containers/${id}/preview/3000/echo?q=1`, {
      key: alice.key,
      headers: { cookie: 'session=dashboard', 'x-forwarded-for': '6.6.6.6' },
    });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/echo?q=1');
    expect(seen.headers.host).toBe('localhost:3000');
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(res.headers['content-security-policy']).toMatch(/^sandbox /);
    const page = await call(`/api/containers/${id}/preview/3000/`, { key: alice.key });
    expect(page.headers['set-cookie']).toBeUndefined();
  });

  test('a streaming answer arrives before it ends (never buffered)', async () => {
    const started = Date.now();
    const first = await new Promise<string>((resolve, reject) => {
      httpRequest(
        { host: '127.0.0.1', port: gwPort, path: `/api/containers/${id}/preview/3000/stream`, headers: { authorization: `Bearer ${alice.key}` } },
        (res) => {
          res.once('data', (c: Buffer) => {
            resolve(c.toString());
            res.destroy();
          });
        },
      )
        .on('error', reject)
        .end();
    });
    expect(first).toBe('data: first\n\n');
    expect(Date.now() - started).toBeLessThan(2500);
  });

  test('WebSocket', async () => {
    expect(await wsFirstMessages(`/api/containers/${id}/preview/3000/hmr`, { authorization: `Bearer ${alice.key}` })).toEqual(['hello', 'echo:ping']);
  });

  test("another owner's workspace, an unpublished port, and ports spelled as paths or addresses are 404 with a code", async () => {
    expect(codeOf(await call(`/api/containers/${id}/preview/3000/`, { key: bob.key }))).toBe('CONTAINER_NOT_FOUND');
    expect(codeOf(await call(`/api/containers/${id}/preview/8080/`, { key: alice.key }))).toBe('PREVIEW_PORT_NOT_PUBLISHED');
    for (const p of ['..%2F..%2F3000', '0', '03000', '127.0.0.1:3000', '3000@evil', '65536']) {
      const res = await call(`/api/containers/${id}/preview/${p}/`, { key: alice.key });
      expect(res.status, p).toBe(404);
      expect(codeOf(res), p).toBe('PREVIEW_PORT_NOT_PUBLISHED');
    }
    // A published port nothing listens on yet: retryable 502.
    const down = await call(`/api/containers/${id}/preview/3001/`, { key: alice.key });
    expect(down.status).toBe(502);
    expect(codeOf(down)).toBe('PREVIEW_UPSTREAM_UNREACHABLE');
    expect((await call(`/api/containers/${id}/preview/3000/`)).status).toBe(401);
  });

  test('preview traffic counts as activity', async () => {
    const before = (JSON.parse((await call(`/api/containers/${id}`, { key: alice.key })).body) as { lastActiveAt: string }).lastActiveAt;
    await new Promise((r) => setTimeout(r, 1100));
    await call(`/api/containers/${id}/preview/3000/echo`, { key: alice.key });
    // The keepalive goes out in the background: wait for it.
    for (let i = 0; i < 50; i++) {
      const now = (JSON.parse((await call(`/api/containers/${id}`, { key: alice.key })).body) as { lastActiveAt: string }).lastActiveAt;
      if (now !== before) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('lastActiveAt did not move');
  });
});

describe('host form', () => {
  test('with the API key: HTTP and WebSocket on <port>-<id>.<domain>', async () => {
    const res = await call('/src/main.ts', { key: alice.key, headers: { host: hostOf(3000) } });
    expect((JSON.parse(res.body) as { url: string }).url).toBe('/src/main.ts');
    expect(await wsFirstMessages('/hmr', { authorization: `Bearer ${alice.key}` }, hostOf(3000))).toEqual(['hello', 'echo:ping']);
    expect((await call('/', { key: bob.key, headers: { host: hostOf(3000) } })).status).toBe(404);
  });

  test('Host header games reach no workspace', async () => {
    for (const host of [`3000-${id}.${DOMAIN}.evil.example`, `3000-${id}.evil.example`, `evil.example`, `3000-${id}`]) {
      const res = await call('/', { key: alice.key, headers: { host } });
      expect(res.status, host).toBe(404);
      expect(res.body, host).not.toContain('dev');
    }
  });
});

describe('share links', () => {
  test("path-form link (host form off for this link's URL) works without a key; host-form link is a cookie on that host only", async () => {
    const { url, secret } = await share(3000);
    expect(url).toBe(`http://3000-${id}.${DOMAIN}:${gwPort}/?berth_preview_token=${secret}`);
    // The same secret also opens the path form.
    const page = await call(`/preview/s/${secret}/echo`);
    expect((JSON.parse(page.body) as { url: string }).url).toBe('/echo');
    expect(await wsFirstMessages(`/preview/s/${secret}/hmr`, {})).toEqual(['hello', 'echo:ping']);
    const first = await call(`/?berth_preview_token=${secret}`, { headers: { host: hostOf(3000) } });
    expect(first.status).toBe(303);
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    const viaCookie = await call('/echo', { headers: { host: hostOf(3000), cookie } });
    expect((JSON.parse(viaCookie.body) as { headers: Record<string, string> }).headers.cookie).toBeUndefined();
    expect(await wsFirstMessages('/hmr', { cookie }, hostOf(3000))).toEqual(['hello', 'echo:ping']);
    // Not for another port of the same workspace.
    expect((await call('/', { headers: { host: hostOf(3001), cookie } })).status).toBe(401);
  });

  test('is revoked at once, and only by its owner', async () => {
    const { secret, previewId } = await share(3000);
    expect((await call(`/preview/s/${secret}/echo`)).status).toBe(200);
    expect(codeOf(await call(`/api/containers/${id}/previews/${previewId}`, { key: bob.key, method: 'DELETE' }))).toBe('PREVIEW_NOT_FOUND');
    expect((await call(`/api/containers/${id}/previews/${previewId}`, { key: alice.key, method: 'DELETE' })).status).toBe(200);
    expect((await call(`/preview/s/${secret}/echo`)).status).toBe(401);
    expect(codeOf(await call(`/api/containers/${id}/previews/${previewId}`, { key: alice.key, method: 'DELETE' }))).toBe('PREVIEW_NOT_FOUND');
  });

  test('expires', async () => {
    const { secret } = await share(3000, 1);
    expect((await call(`/preview/s/${secret}/echo`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await call(`/preview/s/${secret}/echo`)).status).toBe(401);
  });

  test("an unpublished port or another owner's workspace cannot be shared", async () => {
    expect(codeOf(await call(`/api/containers/${id}/previews`, { key: alice.key, method: 'POST', body: { port: 8080 } }))).toBe('PREVIEW_PORT_NOT_PUBLISHED');
    expect(codeOf(await call(`/api/containers/${id}/previews`, { key: bob.key, method: 'POST', body: { port: 3000 } }))).toBe('CONTAINER_NOT_FOUND');
  });
});

describe('headless Chromium', () => {
  test("the page's WebSocket reload message arrives, through a share link in both forms", async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const { url, secret } = await share(3000);
    const pathPage = await browser.newPage();
    await pathPage.goto(`${stack.url}/preview/s/${secret}/`);
    await pathPage.waitForFunction(STATUS_IS_HELLO);
    const hostPage = await browser.newPage();
    await hostPage.goto(url);
    // The secret left the address bar for a cookie.
    expect(hostPage.url()).toBe(`http://3000-${id}.${DOMAIN}:${gwPort}/`);
    await hostPage.waitForFunction(STATUS_IS_HELLO);
    expect((await call(`/api/containers/${id}/preview/3000/reload`, { key: alice.key })).body).toMatch(/^sent [2-9]/);
    await pathPage.waitForFunction(STATUS_IS_RELOAD);
    await hostPage.waitForFunction(STATUS_IS_RELOAD);
  }, 60_000);
});

describe('logs', () => {
  test("no share-link secret in any service's log", () => {
    expect(secrets.length).toBeGreaterThan(3);
    expect(stack.gateway.allOutput).toContain('preview/s/[redacted]');
    for (const p of [stack.gateway, stack.poolManager, stack.logStreamer]) {
      for (const s of secrets) expect(p.allOutput).not.toContain(s);
    }
  });
});
