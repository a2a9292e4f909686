import { ErrorBodySchema } from '@berth/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { AUTH, TOKEN, build, containerView } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('bearer auth', () => {
  const cases: [string, Record<string, string>][] = [
    ['no header', {}],
    ['wrong token', { authorization: 'Bearer not-the-token-at-all-000' }],
    ['token prefix', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['token plus a character', { authorization: `Bearer ${TOKEN}x` }],
    ['wrong scheme', { authorization: `Basic ${TOKEN}` }],
    ['bare token', { authorization: TOKEN }],
    ['empty bearer', { authorization: 'Bearer ' }],
  ];

  it.each(cases)('refuses %s with 401 UNAUTHORIZED', async (_name, headers) => {
    let backend;
    ({ app, backend } = await build({ containerList: () => ({ containers: [], count: 0 }) }));
    const res = await app.inject({ method: 'GET', url: '/api/containers', headers });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    const body = ErrorBodySchema.parse(res.json());
    expect(body.error).toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
    expect(backend.calls).toHaveLength(0);
  });

  it('accepts the right token and acts as the default owner', async () => {
    let backend;
    ({ app, backend } = await build({ containerList: () => ({ containers: [containerView()], count: 1 }) }));
    const res = await app.inject({ method: 'GET', url: '/api/containers', headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ count: 1 });
    expect(backend.calls[0]?.data).toEqual({ owner: 'default' });
  });

  it('checks the token before reading the body', async () => {
    ({ app } = await build());
    const res = await app.inject({
      method: 'POST',
      url: '/api/containers',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(res.statusCode).toBe(401);
  });

  it('needs the token for unknown routes under /api too', async () => {
    ({ app } = await build());
    for (const url of ['/api/nothing-here', '/api', '/api/', '/api?x=1', '/api/containers/ws_0123456789abcdef/x']) {
      const anon = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: '{bad' });
      expect(anon.statusCode, url).toBe(401);
    }
    const wrongMethod = await app.inject({ method: 'PUT', url: '/api/containers' });
    expect(wrongMethod.statusCode).toBe(401);
    const authed = await app.inject({ method: 'GET', url: '/api/nothing-here', headers: AUTH });
    expect(authed.statusCode).toBe(404);
    expect(authed.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
  });

  it.each(['/health', '/metrics', '/docs/json', '/docs'])('%s is public', async (url) => {
    ({ app } = await build({
      hostStatus: () => ({
        hostId: 'h',
        containers: { total: 0, warm: 0, claimed: 0, creating: 0 },
        capacity: { maxContainers: 1, maxMemoryMb: 1, usedMemoryMb: 0 },
      }),
    }));
    const res = await app.inject({ method: 'GET', url });
    expect([200, 302]).toContain(res.statusCode);
  });
});
