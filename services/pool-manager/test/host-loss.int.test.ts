import type { ContainerEventKind } from '@berth/contracts';
import { createLogger, createRedis, type Redis } from '@berth/service-kit';
import { startRedisServer, type ServerProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventExtra, EventPublisher } from '../src/events.js';
import { lossKey, reportHostLoss, reportHostReturn } from '../src/host/host-loss.js';
import { PeerWatch } from '../src/host/peer-watch.js';
import { hostKeys } from '../src/state/keys.js';

const logger = createLogger('test', 'silent');
let server: ServerProcess & { url: string };
let redis: Redis;

class RecordedEvents implements EventPublisher {
  readonly sent: { id: string; kind: ContainerEventKind; pool: string; reason?: string; extra?: EventExtra }[] = [];
  publish(id: string, kind: ContainerEventKind, pool: string, reason?: string, extra?: EventExtra): void {
    this.sent.push({ id, kind, pool, reason, extra });
  }
}

async function putRecord(hostId: string, id: string, state: string, owner: string): Promise<void> {
  const k = hostKeys(hostId);
  await redis.hset(k.workspace(id), { id, pool: 'default', state, owner, ports: '{}', createdAt: String(Date.now()) });
  await redis.sadd(k.all, id);
}

beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedis({ url: server.url, name: 'host-loss-test', logger });
});

afterAll(async () => {
  redis?.disconnect();
  await server?.dispose();
});

describe('PeerWatch', () => {
  it('tells a host silent for longer than the limit once, never itself, and again after it beat and went silent', () => {
    let now = 0;
    const watch = new PeerWatch('h1', 3000, () => now);
    watch.heard({ hostId: 'h1', boot: 'a' });
    watch.heard({ hostId: 'h2', boot: 'b' });
    now = 3000;
    expect(watch.newlyLost()).toEqual([]);
    now = 3001;
    expect(watch.newlyLost()).toEqual([{ hostId: 'h2', boot: 'b' }]);
    now = 9000;
    expect(watch.newlyLost()).toEqual([]);
    watch.heard({ hostId: 'h2', boot: 'c' });
    now = 12_001;
    expect(watch.newlyLost()).toEqual([{ hostId: 'h2', boot: 'c' }]);
  });
});

describe('a lost host told once, and what survived told on its return', () => {
  it("several pool-managers seeing one host lost publish its workspaces' lost events once, under its host id", async () => {
    await putRecord('lost-a', 'ws_lost-a_0000000000000001', 'claimed', 'alice');
    await putRecord('lost-a', 'ws_lost-a_0000000000000002', 'warm', '');
    const [e1, e2, e3] = [new RecordedEvents(), new RecordedEvents(), new RecordedEvents()];
    const told = await Promise.all([e1, e2, e3].map((e, i) => reportHostLoss(redis, e, { hostId: 'lost-a', boot: 'b1' }, `peer${i}`, logger)));
    expect(told.filter((n) => n !== undefined)).toEqual([2]);
    const sent = [...e1.sent, ...e2.sent, ...e3.sent];
    expect(sent).toHaveLength(2);
    expect(sent).toContainEqual({
      id: 'ws_lost-a_0000000000000001',
      kind: 'lost',
      pool: 'default',
      reason: 'host-lost',
      extra: { hostId: 'lost-a', owner: 'alice' },
    });
    expect(sent).toContainEqual({ id: 'ws_lost-a_0000000000000002', kind: 'lost', pool: 'default', reason: 'host-lost', extra: { hostId: 'lost-a' } });
    // a later sweep of the same loss tells nothing more
    expect(await reportHostLoss(redis, new RecordedEvents(), { hostId: 'lost-a', boot: 'b1' }, 'peer0', logger)).toBeUndefined();
  });

  it('the host back: survivors recovered, the others removed (lost-with-host), once; a next loss is told again', async () => {
    await putRecord('lost-b', 'ws_lost-b_0000000000000001', 'claimed', 'bob');
    await putRecord('lost-b', 'ws_lost-b_0000000000000002', 'claimed', 'carol');
    expect(await reportHostLoss(redis, new RecordedEvents(), { hostId: 'lost-b', boot: 'b1' }, 'peer', logger)).toBe(2);
    const survivors = new Set(['ws_lost-b_0000000000000001']);
    const back = new RecordedEvents();
    expect(await reportHostReturn(redis, back, 'lost-b', async (id) => survivors.has(id), logger)).toEqual({ recovered: 1, removed: 1 });
    expect(back.sent).toEqual([
      { id: 'ws_lost-b_0000000000000001', kind: 'recovered', pool: 'default', reason: 'host-returned', extra: { owner: 'bob' } },
      { id: 'ws_lost-b_0000000000000002', kind: 'removed', pool: 'default', reason: 'lost-with-host', extra: { owner: 'carol' } },
    ]);
    expect(await redis.exists(lossKey('lost-b'))).toBe(0);
    expect(await reportHostReturn(redis, new RecordedEvents(), 'lost-b', async () => true, logger)).toBeUndefined();
    expect(await reportHostLoss(redis, new RecordedEvents(), { hostId: 'lost-b', boot: 'b2' }, 'peer', logger)).toBe(2);
  });

  it('a host never lost tells nothing on start', async () => {
    const e = new RecordedEvents();
    expect(await reportHostReturn(redis, e, 'never-lost', async () => true, logger)).toBeUndefined();
    expect(e.sent).toEqual([]);
  });
});
