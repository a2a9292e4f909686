import { BerthError, DeleteVolumeReplySchema, VolumeListSchema } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, build } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('volumes', () => {
  it("lists the caller's volumes, passing its owner", async () => {
    let backend;
    const list = { volumes: [{ name: 'data', createdAt: '2026-01-01T00:00:00.000Z', inUse: true }], count: 1, limit: 20 };
    ({ app, backend } = await build({ volumeList: () => list }));
    const res = await app.inject({ method: 'GET', url: '/api/volumes', headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(VolumeListSchema.parse(res.json())).toEqual(list);
    expect(backend.calls[0]).toMatchObject({ key: 'volumeList', data: { owner: 'default' } });
  });

  it("deletes one by the caller's name", async () => {
    let backend;
    ({ app, backend } = await build({ volumeDelete: (req) => ({ name: req.name, removed: true as const }) }));
    const res = await app.inject({ method: 'DELETE', url: '/api/volumes/data', headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(DeleteVolumeReplySchema.parse(res.json())).toEqual({ name: 'data', removed: true });
    expect(backend.calls[0]).toMatchObject({ key: 'volumeDelete', data: { name: 'data', owner: 'default' } });
  });

  it('a volume in use is 409 VOLUME_IN_USE, not retryable', async () => {
    ({ app } = await build({
      volumeDelete: () => {
        throw new BerthError('VOLUME_IN_USE', 'in use');
      },
    }));
    const res = await app.inject({ method: 'DELETE', url: '/api/volumes/data', headers: AUTH });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: { code: 'VOLUME_IN_USE', retryable: false } });
  });

  it.each(['.x', '-x', '%2Fetc', 'a%00b', 'x'.repeat(64)])(
    'a name that cannot be a volume (%s) is 404 VOLUME_NOT_FOUND without reaching pool-manager',
    async (name) => {
      let backend;
      ({ app, backend } = await build({ volumeDelete: () => ({ name, removed: true as const }) }));
      const res = await app.inject({ method: 'DELETE', url: `/api/volumes/${name}`, headers: AUTH });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'VOLUME_NOT_FOUND' } });
      expect(backend.calls).toHaveLength(0);
    },
  );

  it('create refusals about volumes and images keep their 4xx status', async () => {
    for (const [code, status] of [
      ['VOLUME_NOT_ALLOWED', 403],
      ['VOLUME_LIMIT_REACHED', 409],
      ['CONTAINER_EXITED', 422],
      ['IMAGE_NOT_ALLOWED', 400],
    ] as const) {
      ({ app } = await build({
        containerCreate: () => {
          throw new BerthError(code, 'no');
        },
      }));
      const res = await app.inject({
        method: 'POST',
        url: '/api/containers',
        headers: { ...AUTH, 'content-type': 'application/json' },
        payload: { volumeName: 'data' },
      });
      expect([res.statusCode, res.json().error.code, res.json().error.retryable]).toEqual([status, code, false]);
      await app.close();
      app = undefined;
    }
  });
});
