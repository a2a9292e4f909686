import { createLogger, createRedis, type Redis } from '@berth/service-kit';
import { startRedisServer, type ServerProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LOCAL_REPOS, RepoLocality } from '../src/host/repo-locality.js';

let server: ServerProcess & { url: string };
let redis: Redis;
const logger = createLogger('test', 'silent');

beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedis({ url: server.url, name: 'repo-locality-test', logger });
});

afterAll(async () => {
  redis?.disconnect();
  await server?.dispose();
});

describe('the repos a host holds, for its heartbeat', () => {
  it('lists repos set up on this host, latest first, per host, bounded', async () => {
    const h1 = new RepoLocality(redis, 'h1', logger);
    await h1.note('acme/web');
    await new Promise((r) => setTimeout(r, 2));
    await h1.note('acme/api');
    await h1.note('acme/web'.replace('web', 'api'));
    expect(await h1.list()).toEqual(['acme/api', 'acme/web']);
    expect(await new RepoLocality(redis, 'h2', logger).list()).toEqual([]);
    for (let i = 0; i < MAX_LOCAL_REPOS + 5; i += 1) await h1.note(`o/r${i}`);
    const listed = await h1.list();
    expect(listed).toHaveLength(MAX_LOCAL_REPOS);
    expect(listed[0]).toBe(`o/r${MAX_LOCAL_REPOS + 4}`);
    expect(await redis.zcard('berth:host:h1:repos')).toBe(MAX_LOCAL_REPOS);
  });
});
