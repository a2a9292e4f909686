import { BerthError } from '@berth/contracts';
import { createLogger, createRedis, type Redis } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tickets } from '../src/tickets.js';
import type { WorkspaceAccess } from '../src/workspaces/access.js';
import { startInfra, type Infra } from './harness.js';
import { rejection } from './helpers.js';

const ID = 'ws_0123456789abcdef';
const OTHER = 'ws_fedcba9876543210';
// Only `get` is used: it answers for alice's one container, like WorkspaceAccess.get.
const workspaces = {
  get: async (id: string, owner: string) => {
    if (id !== ID || owner !== 'alice') throw new BerthError('CONTAINER_NOT_FOUND', 'no container');
    return {};
  },
} as unknown as WorkspaceAccess;

describe('tickets (real Redis)', () => {
  let infra: Infra;
  let redis: Redis;

  beforeAll(async () => {
    infra = await startInfra();
    redis = createRedis({ url: infra.redis.url, name: 'test', logger: createLogger('test', 'silent') });
  });
  afterAll(async () => {
    await redis?.quit();
    await infra?.dispose();
  });

  it('a ticket is redeemed once, for its container, as its owner; only its hash is stored', async () => {
    const tickets = new Tickets(redis, workspaces);
    const { ticket, expiresAt } = await tickets.create(ID, 'alice');
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(25_000);
    const keys = await redis.keys('berth:ticket:*');
    expect(keys.join()).not.toContain(ticket);
    expect(await redis.pttl(keys[0]!)).toBeLessThanOrEqual(30_000);
    expect((await rejection(tickets.redeem(OTHER, ticket))).code).toBe('UNAUTHORIZED');
    // A try with the wrong container burns the ticket too.
    expect((await rejection(tickets.redeem(ID, ticket))).code).toBe('UNAUTHORIZED');

    const second = await tickets.create(ID, 'alice');
    expect(await tickets.redeem(ID, second.ticket)).toEqual({ owner: 'alice' });
    expect((await rejection(tickets.redeem(ID, second.ticket))).code).toBe('UNAUTHORIZED');
  });

  it('concurrent redeems of one ticket: exactly one wins', async () => {
    const tickets = new Tickets(redis, workspaces);
    const { ticket } = await tickets.create(ID, 'alice');
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => tickets.redeem(ID, ticket)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('an expired ticket is refused', async () => {
    const tickets = new Tickets(redis, workspaces, 100);
    const { ticket } = await tickets.create(ID, 'alice');
    await new Promise((r) => setTimeout(r, 200));
    expect((await rejection(tickets.redeem(ID, ticket))).code).toBe('UNAUTHORIZED');
  });

  it('no ticket for a container the caller cannot see', async () => {
    expect((await rejection(new Tickets(redis, workspaces).create(ID, 'mallory'))).code).toBe('CONTAINER_NOT_FOUND');
  });
});
