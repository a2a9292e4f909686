import { createLogger, createRedis, type Redis } from '@berth/service-kit';
import { startRedisServer, type ServerProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SetupStatus } from '@berth/contracts';
import { SetupStore } from '../src/setup/setup-store.js';
import { SetupTracker } from '../src/setup/setup-tracker.js';

// Setup state in a real redis-server: one running setup per workspace, seq continuing across setups.
let server: ServerProcess & { url: string };
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedis({ url: server.url, name: 'setup-store-test', logger: createLogger('test', 'silent') });
});
afterAll(async () => {
  await redis?.quit();
  await server?.dispose();
});

const first = (id: string): Omit<SetupStatus, 'seq'> => ({
  id,
  phase: 'queued',
  repo: 'acme/app',
  branch: 'main',
  at: new Date().toISOString(),
  startedAt: new Date().toISOString(),
  durations: {},
});

describe('SetupStore', () => {
  it('starts one setup at a time per workspace and continues seq after it ends', async () => {
    const store = new SetupStore(redis, 'h1');
    const published: SetupStatus[] = [];
    const a = await store.begin('alice', first('ws_00000000000000a1'));
    expect(a).toMatchObject({ started: true, status: { seq: 1, phase: 'queued', durations: {} } });
    const busy = await store.begin('alice', first('ws_00000000000000a1'));
    expect(busy).toMatchObject({ started: false, status: { seq: 1, phase: 'queued' } });

    const phases: [string, string][] = [];
    const tracker = new SetupTracker(
      a.status,
      store,
      {
        publish: async (s) => {
          published.push(s);
        },
      },
      (phase, _ms, outcome) => phases.push([phase, outcome]),
    );
    await tracker.to('cloning');
    expect((await store.unfinished()).map((u) => u.status.id)).toContain('ws_00000000000000a1');
    await tracker.to('failed', { error: { code: 'CLONE_FAILED', message: 'x' } });
    expect(published.map((s) => [s.seq, s.phase])).toEqual([
      [2, 'cloning'],
      [3, 'failed'],
    ]);
    expect(phases).toEqual([
      ['queued', 'ok'],
      ['cloning', 'CLONE_FAILED'],
    ]);
    expect(published[1]?.durations.cloning).toBeGreaterThanOrEqual(0);
    expect(await store.get('ws_00000000000000a1')).toMatchObject({ owner: 'alice', status: { seq: 3, phase: 'failed' } });
    expect((await store.unfinished()).map((u) => u.status.id)).not.toContain('ws_00000000000000a1');

    const again = await store.begin('alice', first('ws_00000000000000a1'));
    expect(again).toMatchObject({ started: true, status: { seq: 4, phase: 'queued' } });
  });

  it('keeps hosts apart', async () => {
    await new SetupStore(redis, 'h2').begin('bob', first('ws_00000000000000b2'));
    expect(await new SetupStore(redis, 'h3').get('ws_00000000000000b2')).toBeUndefined();
    expect((await new SetupStore(redis, 'h2').unfinished()).map((u) => u.owner)).toEqual(['bob']);
  });

  it('concurrent begins: exactly one starts', async () => {
    const store = new SetupStore(redis, 'h4');
    const results = await Promise.all(Array.from({ length: 20 }, () => store.begin('c', first('ws_00000000000000c4'))));
    expect(results.filter((r) => r.started)).toHaveLength(1);
  });
});
