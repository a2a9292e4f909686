import { rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, repoRoot, type ServiceProcess } from '@berth/service-kit/testing';
import { createLogger } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AllowList, parseAllowList } from '../../egress/src/proxy/allow-list.js';
import { createProxyServer } from '../../egress/src/proxy/server.js';
import { startHarness, startRepoCache, sync, type Harness } from './helpers.js';

// git reaches upstream only through EGRESS_PROXY_URL when it is set. The proxy here is a minimal
// plain-HTTP forward proxy (absolute-URI requests), standing in for egress.
let h: Harness;
let proxy: Server;
const seen: string[] = [];
let rc: ServiceProcess | undefined;

function startProxy(): Promise<Server> {
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const target = new URL(req.url ?? '');
    const up = httpRequest(target, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  h = await startHarness();
  await h.gh.createRepo('acme/web', { fromDir: join(repoRoot(), 'test', 'fixtures', 'node-app') });
  proxy = await startProxy();
});

afterAll(async () => {
  await rc?.kill('SIGTERM');
  proxy?.closeAllConnections();
  await new Promise((r) => proxy?.close(r));
  await h?.dispose();
  if (h) rmSync(h.mirrors, { recursive: true, force: true });
});

describe('repo-cache through egress', () => {
  test('every upstream request goes through EGRESS_PROXY_URL', async () => {
    rc = await startRepoCache(h, { EGRESS_PROXY_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    const r = await sync(h.nc, { repo: 'acme/web', branch: 'main' });
    expect(r.fetched).toBe(true);
    const upstream = h.gh.requestsFor('acme/web');
    expect(upstream.length).toBeGreaterThan(0);
    expect(seen.filter((u) => u.startsWith(`${h.gh.url}/acme/web.git/`))).toHaveLength(upstream.length);
    await rc.kill('SIGTERM');
  });

  test('an unreachable proxy is UPSTREAM_UNAVAILABLE, not a direct connection', async () => {
    rc = await startRepoCache(h, { EGRESS_PROXY_URL: `http://127.0.0.1:${await freePort()}` });
    const before = h.gh.requestsFor('acme/web').length;
    await expect(sync(h.nc, { repo: 'acme/web' })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
    expect(h.gh.requestsFor('acme/web').length).toBe(before);
  });
});

describe("repo-cache through egress's own proxy", () => {
  test('a repository host egress does not allow is REPO_HOST_NOT_ALLOWED, not retryable, and upstream never hears of it', async () => {
    const egress = createProxyServer(
      {
        allow: new AllowList(parseAllowList('github.com')),
        connectTimeoutMs: 2_000,
        idleTimeoutMs: 5_000,
        onOutcome: () => undefined,
      },
      createLogger('egress', 'silent'),
    );
    await new Promise<void>((resolve) => egress.listen(0, '127.0.0.1', resolve));
    try {
      await rc?.kill('SIGTERM'); // the previous test's, which would answer too
      rc = await startRepoCache(h, { EGRESS_PROXY_URL: `http://127.0.0.1:${(egress.address() as AddressInfo).port}` });
      const before = h.gh.requestsFor('acme/web').length;
      await expect(sync(h.nc, { repo: 'acme/web', branch: 'main' })).rejects.toMatchObject({ code: 'REPO_HOST_NOT_ALLOWED', retryable: false });
      expect(h.gh.requestsFor('acme/web').length).toBe(before);
      await rc.kill('SIGTERM');
    } finally {
      egress.closeAllConnections();
      await new Promise((r) => egress.close(r));
    }
  });
});
