import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ID, JSON_HEADERS, TOKEN, build, containerView } from './helpers.js';

// What Artie's clients send that berth answers as Artie did (docs/migrating-from-artie.md).
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe("Artie's requests at the gateway", () => {
  it.each([
    ['no content-length', {}],
    ['content-length: 0', { 'content-length': '0' }],
  ])('DELETE with content-type application/json and no body (%s) removes the container', async (_, extra) => {
    ({ app } = await build({ containerDelete: (req) => ({ id: req.id, removed: true as const }) }));
    const res = await app.inject({ method: 'DELETE', url: `/api/containers/${ID}`, headers: { ...JSON_HEADERS, ...extra } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ id: ID, removed: true });
  });

  it('a DELETE that does send a body still has it parsed: bad JSON is INVALID_JSON', async () => {
    ({ app } = await build({ containerDelete: (req) => ({ id: req.id, removed: true as const }) }));
    const res = await app.inject({ method: 'DELETE', url: `/api/containers/${ID}`, headers: JSON_HEADERS, payload: '{nope' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'INVALID_JSON' } });
  });

  it('an empty POST body with a JSON type stays INVALID_JSON', async () => {
    ({ app } = await build({ containerCreate: () => ({ ...containerView(), warm: true }) }));
    const res = await app.inject({ method: 'POST', url: '/api/containers', headers: { ...JSON_HEADERS, 'content-length': '0' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'INVALID_JSON' } });
  });

  it.each(['/api/containers', `/api/containers/${ID}/logs`, `/api/containers/${ID}/terminal`])(
    'the API key in a URL (%s?token=) is 401 naming the ticket route, even when it is the right key',
    async (path) => {
      ({ app } = await build({ containerList: () => ({ containers: [], count: 0 }) }));
      const res = await app.inject({ method: 'GET', url: `${path}?token=${TOKEN}` });
      expect(res.statusCode).toBe(401);
      const { error } = res.json() as { error: { code: string; message: string } };
      expect(error.code).toBe('UNAUTHORIZED');
      expect(error.message).toContain('POST /api/containers/{id}/tickets');
      expect(error.message).not.toContain(TOKEN);
    },
  );

  it('pool: true and pool: false reach pool-manager as booleans', async () => {
    let backend;
    ({ app, backend } = await build({ containerCreate: () => ({ ...containerView(), warm: true }) }));
    for (const pool of [true, false]) {
      const res = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: { name: 'my-project', pool } });
      expect(res.statusCode, res.body).toBe(201);
    }
    expect(backend.calls.map((c) => (c.data as { pool?: unknown }).pool)).toEqual([true, false]);
  });
});
