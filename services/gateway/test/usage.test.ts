import { BerthError, UsageSchema, type Usage } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyRing } from '../src/keys/api-key.js';
import { mintKey } from '../src/keys/mint.js';
import { AUTH, ID, build } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const sample = (id: string): Usage => ({
  id,
  at: '2026-11-23T14:00:00.000Z',
  cpuPercent: 12.5,
  memoryBytes: 73_400_320,
  memoryLimitBytes: 536_870_912,
  pids: 7,
  netRxBytes: 10,
  netTxBytes: 20,
});

describe('GET /api/containers/:id/usage', () => {
  it("answers the sample pool-manager gives for the caller's id and owner", async () => {
    let backend;
    ({ app, backend } = await build({ containerUsage: (req) => sample(req.id) }));
    const res = await app.inject({ method: 'GET', url: `/api/containers/${ID}/usage`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(UsageSchema.parse(res.json())).toEqual(sample(ID));
    expect(backend.callsTo('containerUsage')[0]).toMatchObject({ data: { id: ID, owner: 'default' } });
  });

  it("someone else's or a missing container is 404 CONTAINER_NOT_FOUND", async () => {
    ({ app } = await build({
      containerUsage: () => {
        throw new BerthError('CONTAINER_NOT_FOUND', 'no container');
      },
    }));
    const res = await app.inject({ method: 'GET', url: `/api/containers/${ID}/usage`, headers: AUTH });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'CONTAINER_NOT_FOUND' } });
  });

  it('a malformed id is 404 CONTAINER_NOT_FOUND (as on every /containers/:id route) without reaching pool-manager', async () => {
    let backend;
    ({ app, backend } = await build({ containerUsage: (req) => sample(req.id) }));
    const res = await app.inject({ method: 'GET', url: '/api/containers/not-an-id/usage', headers: AUTH });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'CONTAINER_NOT_FOUND' } });
    expect(backend.callsTo('containerUsage')).toHaveLength(0);
  });

  it('needs the read scope: a read key gets it, an exec-only key is 403', async () => {
    const reader = mintKey({ name: 'r', owner: 'alice', scopes: ['read'] });
    const runner = mintKey({ name: 'x', owner: 'alice', scopes: ['exec'] });
    let backend;
    ({ app, backend } = await build({ containerUsage: (req) => sample(req.id) }, { keys: new KeyRing([reader.entry, runner.entry]), apiToken: undefined }));
    const get = (key: string) => app!.inject({ method: 'GET', url: `/api/containers/${ID}/usage`, headers: { authorization: `Bearer ${key}` } });
    expect((await get(reader.key)).statusCode).toBe(200);
    expect(backend.callsTo('containerUsage')[0]).toMatchObject({ data: { owner: 'alice' } });
    const denied = await get(runner.key);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(backend.callsTo('containerUsage')).toHaveLength(1);
  });

  it('is in the OpenAPI document with the ContainerUsage schema', async () => {
    ({ app } = await build());
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    const op = doc.paths['/api/containers/{id}/usage']?.get;
    expect(op?.responses?.['200']?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/ContainerUsage' });
    expect(doc.components.schemas.ContainerUsage.required).toEqual(expect.arrayContaining(['cpuPercent', 'memoryBytes', 'pids']));
  });
});
