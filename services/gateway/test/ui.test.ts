import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { build } from './helpers.js';

let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await build());
});
afterAll(async () => {
  await app.close();
});

describe("the dashboard's static files", () => {
  it('serves the page, its script and xterm with a strict content security policy, without auth', async () => {
    for (const [url, type] of [
      ['/ui/', 'text/html'],
      ['/ui/app.js', 'text/javascript'],
      ['/ui/files.js', 'text/javascript'],
      ['/ui/sse.js', 'text/javascript'],
      ['/ui/templates.js', 'text/javascript'],
      ['/ui/app.css', 'text/css'],
      ['/ui/vendor/xterm.js', 'text/javascript'],
      ['/ui/vendor/xterm.css', 'text/css'],
    ] as const) {
      const res = await app.inject({ method: 'GET', url });
      expect([url, res.statusCode]).toEqual([url, 200]);
      expect(res.headers['content-type']).toContain(type);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    expect((await app.inject({ method: 'GET', url: '/ui' })).headers.location).toBe('/ui/');
  });

  it('serves nothing else: other names and traversal attempts are 404', async () => {
    for (const url of ['/ui/nope.js', '/ui/../package.json', '/ui/%2e%2e/src/app.ts', '/ui/vendor/../../package.json', '/ui/vendor/xterm.js.map']) {
      expect([url, (await app.inject({ method: 'GET', url })).statusCode]).toEqual([url, 404]);
    }
  });

  it('keeps the key out of URLs: the page sends it only as a bearer header, the terminal uses a ticket', async () => {
    const js = (await app.inject({ method: 'GET', url: '/ui/app.js' })).body;
    expect(js).toContain('authorization: `Bearer ${apiKey}`');
    expect(js).toContain('`berth.ticket.${ticket}`');
    expect(js).not.toMatch(/[?&](token|key|apiKey|ticket)=/);
    expect(js).toContain('sessionStorage');
    expect(js).not.toContain('localStorage');
  });

  it("builds templates through the page's api (the key stays in app.js), showing names and output as text", async () => {
    const js = (await app.inject({ method: 'GET', url: '/ui/templates.js' })).body;
    expect(js).toContain("s.api('POST', '/api/templates', body, { accept: 'text/event-stream', signal: abort.signal })");
    expect(js).toContain("import { readEvents } from './sse.js'");
    for (const leak of ['apiKey', 'authorization', 'sessionStorage', 'localStorage', 'innerHTML', 'insertAdjacentHTML', 'document.write']) {
      expect([leak, js.includes(leak)]).toEqual([leak, false]);
    }
    expect(js).not.toMatch(/[?&](token|key|apiKey|ticket)=/);
    const page = (await app.inject({ method: 'GET', url: '/ui/app.js' })).body;
    expect(page).toContain("from './templates.js'");
  });

  it('is not part of the API document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/ui'))).toEqual([]);
  });
});
