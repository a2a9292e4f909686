import { ContainerListSchema, ErrorBodySchema, PoolListSchema, VolumeListSchema } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, build, containerView, poolView } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const hex = (i: number) => i.toString(16).padStart(16, '0');
const get = async (url: string) => {
  const res = await app!.inject({ method: 'GET', url, headers: AUTH });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
};

/** Walks every page of `url` with `limit`, returning the pages' item keys. */
async function walk(url: string, limit: number, keysOf: (body: unknown) => string[]): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const { status, body } = await get(`${url}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(status).toBe(200);
    pages.push(keysOf(body));
    cursor = body.nextCursor as string | undefined;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

describe('list routes page with limit and cursor', () => {
  it('containers: every container once, in id order, in pages of limit, the total in count', async () => {
    const ids = [7, 3, 11, 1, 5, 9, 2].map((i) => `ws_${hex(i)}`);
    ({ app } = await build({ containerList: () => ({ containers: ids.map((id) => containerView(id)), count: ids.length }) }));
    const pages = await walk('/api/containers', 3, (b) => ContainerListSchema.parse(b).containers.map((c) => c.id));
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual([...ids].sort());
    const first = ContainerListSchema.parse((await get('/api/containers?limit=3')).body);
    expect(first.count).toBe(7);
  });

  it('without limit the whole list comes at once and no cursor (callers written before paging)', async () => {
    ({ app } = await build({ containerList: () => ({ containers: [containerView(`ws_${hex(2)}`), containerView(`ws_${hex(1)}`)], count: 2 }) }));
    const { body } = await get('/api/containers');
    expect(ContainerListSchema.parse(body).containers).toHaveLength(2);
    expect(body).not.toHaveProperty('nextCursor');
  });

  it('a container removed between pages does not shift the next page', async () => {
    let ids = [1, 2, 3, 4, 5, 6].map((i) => `ws_${hex(i)}`);
    ({ app } = await build({ containerList: () => ({ containers: ids.map((id) => containerView(id)), count: ids.length }) }));
    const first = ContainerListSchema.parse((await get('/api/containers?limit=3')).body);
    ids = ids.filter((id) => id !== `ws_${hex(2)}` && id !== `ws_${hex(4)}`);
    const second = ContainerListSchema.parse((await get(`/api/containers?limit=3&cursor=${first.nextCursor}`)).body);
    expect(second.containers.map((c) => c.id)).toEqual([`ws_${hex(5)}`, `ws_${hex(6)}`]);
  });

  it('volumes page by name and keep their per-owner limit', async () => {
    const names = ['b', 'a', 'd', 'c', 'e'];
    ({ app } = await build({
      volumeList: () => ({ volumes: names.map((name) => ({ name, createdAt: '2026-12-03T00:00:00.000Z', inUse: false })), count: 5, limit: 20 }),
    }));
    const pages = await walk('/api/volumes', 2, (b) => VolumeListSchema.parse(b).volumes.map((v) => v.name));
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(VolumeListSchema.parse((await get('/api/volumes?limit=2')).body).limit).toBe(20);
  });

  it('pools keep their configured order (the default first)', async () => {
    ({ app } = await build({ poolList: () => ({ pools: ['zeta', 'alpha', 'mid'].map((name) => poolView(name)) }) }));
    const pages = await walk('/api/pools', 2, (b) => PoolListSchema.parse(b).pools.map((p) => p.name));
    expect(pages).toEqual([['zeta', 'alpha'], ['mid']]);
  });

  it('ignores parameters it does not know, as lists did before paging', async () => {
    ({ app } = await build({ containerList: () => ({ containers: [containerView()], count: 1 }) }));
    const res = await app.inject({ method: 'GET', url: '/api/containers?state=claimed&page=2', headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(ContainerListSchema.parse(res.json()).containers).toHaveLength(1);
  });

  it('refuses a bad limit and a forged cursor with 400 and a code', async () => {
    ({ app } = await build({ containerList: () => ({ containers: [], count: 0 }) }));
    for (const q of [
      'limit=0',
      'limit=1001',
      'limit=x',
      'limit=-1',
      'cursor=not-base64!',
      `cursor=${Buffer.from('{"after":5}').toString('base64url')}`,
      'cursor=',
    ]) {
      const res = await app.inject({ method: 'GET', url: `/api/containers?${q}`, headers: AUTH });
      expect(res.statusCode, q).toBe(400);
      expect(['VALIDATION_FAILED', 'UNKNOWN_FIELD'], q).toContain(ErrorBodySchema.parse(res.json()).error.code);
    }
  });
});
