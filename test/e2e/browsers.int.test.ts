import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Berth } from '../../packages/sdk/src/index.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

// A web app on another origin uses berth from headless Chromium (Debian's package) against the real
// stack: a fetch with the bearer token (CORS preflight), live logs through a plain EventSource with a
// ticket, streaming exec with a ticket, a terminal through a plain WebSocket with a ticket and text-frame
// keystrokes. The same page served from an origin CORS_ORIGINS does not list gets none of it.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let stack: LocalStack;
let site: Server;
let browser: Browser;
let listed: Page;
let unlisted: Page;
// Its own workspaces' network (removed after), so containers left on the shared default by other runs do not matter.
const NETWORK = `berth-br-${randomBytes(3).toString('hex')}`;
let container: Awaited<ReturnType<Berth['containers']['create']>>;

/** The app's static server: one blank page. 127.0.0.1:<port> and localhost:<port> are two origins. */
async function staticSite(): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

beforeAll(async () => {
  site = await staticSite();
  const sitePort = (site.address() as AddressInfo).port;
  stack = await startLocalStack(
    {
      POOLS: JSON.stringify([{ name: 'default', targetSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 }]),
      MAX_CONTAINERS: '2',
      WORKSPACE_NETWORK: NETWORK,
    },
    'warn',
    { gatewayEnv: { CORS_ORIGINS: `http://127.0.0.1:${sitePort}` } },
  );
  container = await new Berth({ url: stack.url, apiKey: stack.token }).containers.create({ name: 'browser-app' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  listed = await browser.newPage();
  await listed.goto(`http://127.0.0.1:${sitePort}/`);
  unlisted = await browser.newPage();
  await unlisted.goto(`http://localhost:${sitePort}/`);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  try {
    execFileSync('docker', ['network', 'rm', NETWORK], { stdio: 'ignore' });
  } catch {
    /* not made */
  }
  await new Promise((r) => site?.close(r));
});

interface Ctx {
  gw: string;
  id: string;
  token: string;
}
const ctx = (): Ctx => ({ gw: stack.url, id: container.id, token: stack.token });

/** In the page: a ticket from the API with the bearer token (a preflighted cross-origin fetch). */
async function ticketIn(page: Page): Promise<string> {
  return page.evaluate(async ({ gw, id, token }: Ctx) => {
    const res = await fetch(`${gw}/api/containers/${id}/tickets`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    return ((await res.json()) as { ticket: string }).ticket;
  }, ctx());
}

describe('a page on another origin', () => {
  test('fetches with the bearer token (preflight answered for the listed origin)', async () => {
    const got = await listed.evaluate(async ({ gw, id, token }: Ctx) => {
      const res = await fetch(`${gw}/api/containers/${id}`, { headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'k1' } });
      return { status: res.status, name: ((await res.json()) as { name: string }).name };
    }, ctx());
    expect(got).toEqual({ status: 200, name: 'browser-app' });
  });

  test('follows logs with a plain EventSource and a ticket: onmessage gets line and timestamp', async () => {
    const ticket = await ticketIn(listed);
    const before = Date.now();
    const received = listed.evaluate(
      ({ gw, id, ticket: t }: Ctx & { ticket: string }) =>
        new Promise<unknown>((resolve, reject) => {
          const source = new EventSource(`${gw}/api/containers/${id}/logs?tail=0&ticket=${t}`);
          const timer = setTimeout(() => {
            source.close();
            reject(new Error('no log line within 20 s'));
          }, 20_000);
          source.onmessage = (ev: { data: string; lastEventId: string }) => {
            const data = JSON.parse(ev.data) as { line: string };
            if (!data.line.includes('browser-log-line')) return;
            clearTimeout(timer);
            source.close();
            resolve({ ...data, id: ev.lastEventId });
          };
        }),
      { ...ctx(), ticket },
    );
    // Once the stream is open (tail=0: only what comes now), write to the container's output.
    await new Promise((r) => setTimeout(r, 1000));
    await container.exec('echo browser-log-line > /proc/1/fd/1');
    const event = (await received) as { line: string; timestamp: number; id: string };
    expect(event.line).toBe('browser-log-line');
    expect(event.timestamp).toBeGreaterThanOrEqual(before - 1000);
    expect(event.timestamp).toBeLessThanOrEqual(Date.now() + 1000);
    expect(event.id).toMatch(/^\d+$/);
  }, 60_000);

  test('streams an exec with a ticket', async () => {
    const ticket = await ticketIn(listed);
    const body = await listed.evaluate(
      async ({ gw, id, ticket: t }: Ctx & { ticket: string }) => {
        const res = await fetch(`${gw}/api/containers/${id}/exec?stream=true&ticket=${t}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ command: 'echo streamed-$((2*21))' }),
        });
        return { status: res.status, text: await res.text() };
      },
      { ...ctx(), ticket },
    );
    expect(body.status).toBe(200);
    expect(body.text).toContain('streamed-42');
    expect(body.text).toContain('"type":"exit","exitCode":0');
  }, 60_000);

  test('opens a terminal with a plain WebSocket and a ticket; text frames are keystrokes', async () => {
    const ticket = await ticketIn(listed);
    const output = await listed.evaluate(
      ({ gw, id, ticket: t }: Ctx & { ticket: string }) =>
        new Promise<string>((resolve, reject) => {
          const socket = new WebSocket(`${gw.replace(/^http/, 'ws')}/api/containers/${id}/terminal?ticket=${t}`);
          socket.binaryType = 'arraybuffer';
          let seen = '';
          const timer = setTimeout(() => {
            socket.close();
            reject(new Error(`no echo within 20 s; saw ${seen}`));
          }, 20_000);
          socket.onopen = () => socket.send('echo "term-$((6*7))"\n');
          socket.onmessage = (ev: { data: ArrayBuffer | string }) => {
            if (typeof ev.data === 'string') return;
            seen += new TextDecoder().decode(ev.data);
            // The typed line holds `$((6*7))`; only the shell's output has 42.
            if (seen.includes('term-42')) {
              clearTimeout(timer);
              socket.close(1000);
              resolve(seen);
            }
          };
          socket.onclose = (ev) => {
            clearTimeout(timer);
            reject(new Error(`closed ${ev.code} before the echo; saw ${seen}`));
          };
        }),
      { ...ctx(), ticket },
    );
    expect(output).toContain('term-42');
  }, 60_000);

  test('an origin CORS_ORIGINS does not list gets nothing: fetch, EventSource and WebSocket all fail', async () => {
    // Two tickets: each would open its stream once, so the socket's refusal is the origin's, not a used ticket's.
    const tickets = [await ticketIn(listed), await ticketIn(listed)] as const;
    const outcome = await unlisted.evaluate(
      async ({ gw, id, token, tickets: [t1, t2] }: Ctx & { tickets: readonly [string, string] }) => {
        const fetched = await fetch(`${gw}/api/containers/${id}`, { headers: { authorization: `Bearer ${token}` } }).then(
          () => 'read',
          () => 'refused',
        );
        const events = await new Promise<string>((resolve) => {
          const source = new EventSource(`${gw}/api/containers/${id}/logs?ticket=${t1}`);
          source.onmessage = () => {
            source.close();
            resolve('read');
          };
          source.onerror = () => {
            source.close();
            resolve('refused');
          };
        });
        const socket = await new Promise<string>((resolve) => {
          const ws = new WebSocket(`${gw.replace(/^http/, 'ws')}/api/containers/${id}/terminal?ticket=${t2}`);
          ws.onopen = () => {
            ws.close();
            resolve('open');
          };
          ws.onerror = () => resolve('refused');
        });
        return { fetched, events, socket };
      },
      { ...ctx(), tickets },
    );
    expect(outcome).toEqual({ fetched: 'refused', events: 'refused', socket: 'refused' });
  }, 60_000);
});
