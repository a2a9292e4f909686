import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BerthError } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ID, build, containerView, type FakeBackend } from './helpers.js';

const SECRET = 'S'.repeat(20) + 'good' + 'x'.repeat(19);
const OTHER = 'T'.repeat(43);
const wrong = (i: number) => `${'W'.repeat(40)}${String(i).padStart(3, '0')}`;

function get(port: number, path: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('share links: failed secrets are limited per source', () => {
  let dev: Server;
  let app: FastifyInstance;
  let backend: FakeBackend;
  let port: number;
  let clock = 1_000_000;

  beforeAll(async () => {
    dev = createServer((_req, res) => res.end('dev page'));
    dev.listen(0, '127.0.0.1');
    await once(dev, 'listening');
    const devPort = (dev.address() as AddressInfo).port;
    ({ app, backend } = await build(
      {
        containerGet: () => ({ ...containerView(), ports: { '3000': devPort } }),
        containerKeepalive: (req) => ({ id: req.id, idleTimeoutSeconds: 60, reapAt: new Date().toISOString() }),
        previewLinkResolve: (req) => {
          if (req.secret !== SECRET && req.secret !== OTHER) throw new BerthError('UNAUTHORIZED', 'preview link is unknown, revoked or expired');
          return { previewId: 'pv_0123456789abcdef', id: ID, owner: 'default', port: 3000, expiresAt: new Date(Date.now() + 60_000).toISOString() };
        },
      },
      { rateLimit: { rps: 0, burst: 1, authFailuresPerMinute: 3, now: () => clock }, preview: { activityEveryMs: 60_000 } },
    ));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    dev?.closeAllConnections();
    dev?.close();
  });

  it('past the limit wrong secrets get 429 without reaching pool-manager; a link in use keeps working; the window ends', async () => {
    expect((await get(port, `/preview/s/${SECRET}/`)).body).toBe('dev page');
    for (let i = 0; i < 3; i++) expect((await get(port, `/preview/s/${wrong(i)}/`)).status).toBe(401);
    const asked = backend.callsTo('previewLinkResolve').length;
    for (let i = 3; i < 10; i++) {
      const res = await get(port, `/preview/s/${wrong(i)}/`);
      expect(res.status).toBe(429);
      expect(Number(res.retryAfter)).toBeGreaterThan(0);
      expect(JSON.parse(res.body).error.code).toBe('RATE_LIMITED');
    }
    // Malformed secrets count too, and none of them reached pool-manager.
    expect((await get(port, '/preview/s/short/')).status).toBe(429);
    expect(backend.callsTo('previewLinkResolve').length).toBe(asked);
    // The link someone is using still opens (and is still asked about: a revoke would end it).
    const res = await get(port, `/preview/s/${SECRET}/page`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('dev page');
    expect(backend.callsTo('previewLinkResolve').length).toBe(asked + 1);
    // A secret this gateway has not seen open a link waits for the window, like a wrong one.
    expect((await get(port, `/preview/s/${OTHER}/`)).status).toBe(429);
    clock += 61_000;
    expect((await get(port, `/preview/s/${wrong(99)}/`)).status).toBe(401);
    expect((await get(port, `/preview/s/${OTHER}/`)).status).toBe(200);
  });
});
