import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.js';
import { AUTH, ID, build, containerView } from './helpers.js';

const APP = 'http://app.test:5173';
const preflight = (origin: string, method = 'POST') => ({
  method: 'OPTIONS' as const,
  url: `/api/containers/${ID}/exec`,
  headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type, idempotency-key' },
});

async function gateway(corsOrigins?: string[]) {
  const { app } = await build({ containerGet: ({ id }) => containerView(id) }, { corsOrigins });
  return app;
}

describe('CORS (CORS_ORIGINS)', () => {
  it("answers a listed origin's preflight before authentication, with the methods and headers the API takes", async () => {
    const app = await gateway([APP]);
    const res = await app.inject(preflight(APP));
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-methods']).toContain('DELETE');
    expect(String(res.headers['access-control-allow-headers']).split(', ')).toEqual(
      expect.arrayContaining(['authorization', 'idempotency-key', 'content-type']),
    );
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers.vary).toBe('Origin');
    await app.close();
  });

  it('gives a listed origin its own origin on answers, errors included, and an unlisted one nothing', async () => {
    const app = await gateway([APP]);
    const ok = await app.inject({ url: `/api/containers/${ID}`, headers: { ...AUTH, origin: APP } });
    expect([ok.statusCode, ok.headers['access-control-allow-origin']]).toEqual([200, APP]);
    expect(ok.headers['access-control-expose-headers']).toContain('retry-after');
    const unauth = await app.inject({ url: `/api/containers/${ID}`, headers: { origin: APP } });
    expect([unauth.statusCode, unauth.headers['access-control-allow-origin']]).toEqual([401, APP]);
    for (const origin of ['http://evil.test', 'http://app.test:5174', 'null', `${APP}.evil.test`]) {
      const res = await app.inject({ url: `/api/containers/${ID}`, headers: { ...AUTH, origin } });
      expect(res.headers['access-control-allow-origin'], origin).toBeUndefined();
      const pre = await app.inject(preflight(origin));
      expect([pre.statusCode, pre.json().error.code, pre.headers['access-control-allow-origin']], origin).toEqual([403, 'ORIGIN_NOT_ALLOWED', undefined]);
    }
    await app.close();
  });

  it('by default sends no CORS header to anyone', async () => {
    const app = await gateway();
    const res = await app.inject({ url: `/api/containers/${ID}`, headers: { ...AUTH, origin: APP } });
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect((await app.inject(preflight(APP))).statusCode).toBe(403);
    await app.close();
  });

  it('CORS_ORIGINS takes exact origins only', () => {
    const env = { BERTH_API_TOKEN: 'x'.repeat(16) };
    expect(loadGatewayConfig(env).CORS_ORIGINS).toEqual([]);
    expect(loadGatewayConfig({ ...env, CORS_ORIGINS: `${APP}, https://b.example.com` }).CORS_ORIGINS).toEqual([APP, 'https://b.example.com']);
    for (const bad of ['*', 'app.test', 'http://app.test/', 'https://a.example.com/path', 'ftp://a.example.com', 'null']) {
      expect(() => loadGatewayConfig({ ...env, CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
    }
  });
});
