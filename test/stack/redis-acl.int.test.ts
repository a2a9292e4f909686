import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, createRedis, type Redis } from '@berth/service-kit';
import { ServerProcess, repoRoot } from '@berth/service-kit/testing';
import { LlmStore, Registrations, SecretBox } from '@berth/egress';
import { WorkspaceStore } from '@berth/pool-manager';
import { RepoLocks } from '@berth/repo-cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// docker/redis/start.sh (the compose stack's Redis) on a real redis-server: each service's ACL user
// runs its own code's commands on its own keys, and is refused everything else.
const pw = {
  'pool-manager': `s${randomBytes(12).toString('hex')}`,
  'repo-cache': `s${randomBytes(12).toString('hex')}`,
  egress: `s${randomBytes(12).toString('hex')}`,
};
const logger = createLogger('redis-acl-test', 'silent');
const aclDir = mkdtempSync(join(tmpdir(), 'berth-acl-'));
let server: ServerProcess;
const clients: Redis[] = [];

const as = (user: keyof typeof pw | 'default', password = user === 'default' ? '' : pw[user]) => {
  const r = createRedis({ url: `redis://${user}:${password}@127.0.0.1:${server.port}`, name: `acl-${user}`, logger });
  clients.push(r);
  return r;
};
const refused = async (p: Promise<unknown>) => expect(p).rejects.toThrow(/NOPERM|no permissions|can't access/i);

beforeAll(async () => {
  Object.assign(process.env, {
    REDIS_ACL_FILE: join(aclDir, 'users.acl'),
    REDIS_PASSWORD_POOL_MANAGER: pw['pool-manager'],
    REDIS_PASSWORD_REPO_CACHE: pw['repo-cache'],
    REDIS_PASSWORD_EGRESS: pw.egress,
  });
  server = await ServerProcess.start('busybox', (port, dir) => [
    'sh',
    join(repoRoot(), 'docker', 'redis', 'start.sh'),
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir,
    '--save',
    '',
  ]);
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server?.dispose();
  rmSync(aclDir, { recursive: true, force: true });
});

describe('Redis ACL users of docker/redis/start.sh', () => {
  it('pool-manager runs every WorkspaceStore script and its tickets, on its own keys only', async () => {
    const r = as('pool-manager');
    const store = new WorkspaceStore(r, 'acl-host');
    const reserved = await store.reserve({
      id: 'ws_0123456789abcdef',
      requestId: 'req-1',
      owner: 'o',
      name: 'n',
      pool: 'default',
      image: 'img',
      volumeName: 'v',
      memoryMb: 64,
      containerPorts: [3000],
      maxCount: 10,
      maxMemoryMb: 1024,
      portRange: [20000, 20010],
    });
    expect(reserved.outcome).toBeDefined();
    const id = reserved.id;
    expect(await store.markReady(id, 'ref')).toBe(true);
    await store.touch(id);
    expect(typeof (await store.setIdleTimeout(id, 60_000))).toBe('boolean');
    expect(await store.idleCandidates()).toBeInstanceOf(Array);
    await store.lastActiveAt(id);
    expect((await store.claimWarm('default', 'req-2', 'o', 'n2')).outcome).toBeDefined();
    expect(await store.all()).toHaveLength(1);
    expect(await store.tryLock('t', 1000)).toBe(true);
    await store.unlock('t');
    await store.beginStop(id);
    await store.release(id);
    expect(await store.rebuild(['default'])).toBeGreaterThanOrEqual(0);
    // The heartbeat's status (HostHeartbeatPublisher, every second): capacity, ports, the drain switch.
    await store.capacity();
    await store.ports();
    expect(await r.exists(`${store.keys.prefix}draining`)).toBe(0);
    // What else runs outside WorkspaceStore's scripts: RepoLocality's list of repos set up on the host,
    // PausedStore's and the pause scripts' HMGET.
    const repos = `${store.keys.prefix}repos`;
    await r.zadd(repos, Date.now(), 'github.com/o/r');
    await r.zremrangebyrank(repos, 0, -33);
    expect(await r.zrevrange(repos, 0, 31)).toEqual(['github.com/o/r']);
    expect(await r.hmget(store.keys.workspace(id), 'state', 'ref')).toHaveLength(2);
    expect(await r.eval("return redis.call('HMGET', KEYS[1], 'state')", 1, store.keys.workspace(id))).toHaveLength(1);
    expect(await r.set('berth:ticket:abc', '{}', 'PX', 1000)).toBe('OK');
    expect(await r.getdel('berth:ticket:abc')).toBe('{}');
    await refused(r.set('berth:cb:x', '1'));
    await refused(r.get('berth:repo-cache:h:lock:x'));
    await refused(r.keys('*'));
    await refused(r.flushall());
    await refused(r.call('CONFIG', 'GET', 'requirepass'));
    // A script may not reach past the ACL either.
    await refused(r.eval("return redis.call('GET', 'berth:cb:x')", 0));
  });

  it('repo-cache runs its fenced per-repo locks (RepoLocks) under berth:repo-cache:* and nothing else', async () => {
    const r = as('repo-cache');
    const locks = new RepoLocks(r, 'berth:repo-cache:acl-host', { ttlMs: 1000, waitMs: 2000, pollMs: 20 });
    const held = await locks.acquire('acme/web');
    await held.raiseFenceAbove(5);
    expect(await held.stillHeld()).toBe(true);
    await held.release();
    expect(await r.get(locks.lockKey('acme/web'))).toBeNull();
    await refused(r.get('berth:host:acl-host:all'));
    await refused(r.hset('berth:repo-cache:h:x', 'a', '1'));
    await refused(r.flushdb());
  });

  it('egress keeps sealed callback registrations (Registrations) under berth:cb:* and nothing else', async () => {
    const r = as('egress');
    const regs = new Registrations(r, new SecretBox('k'.repeat(40)), 60, logger);
    await regs.put('ws_1', { url: 'https://example.test/hook', secret: 'cb-secret' });
    expect(await regs.get('ws_1')).toEqual({ url: 'https://example.test/hook', secret: 'cb-secret' });
    await refused(r.get('berth:ticket:abc'));
    await refused(r.smembers('berth:host:acl-host:all'));
    await refused(r.eval("return redis.call('GET', 'berth:ticket:abc')", 0));
    await refused(r.hset('berth:host:x', 'a', '1'));
  });

  it('egress runs every LlmStore script (keys, limits, usage) under berth:llm:* and nothing else', async () => {
    const r = as('egress');
    const limits = { requestsPerMinute: 60, tokensPerDay: 1000, spendCapUsdPerDay: 0 };
    const store = new LlmStore(r, limits, limits);
    const hash = 'a'.repeat(64);
    await store.register({ workspaceId: 'ws_0123456789abcdef', owner: 'o', hostId: 'acl-host', keyHash: hash, limits: { spendCapUsdPerDay: 1 } });
    expect(await store.admit(hash)).toMatchObject({ outcome: 'admitted', workspaceId: 'ws_0123456789abcdef' });
    await store.record({ workspaceId: 'ws_0123456789abcdef', owner: 'o', provider: 'openai', inputTokens: 3, outputTokens: 4, costUsd: 0.5, answered: true });
    expect(await store.usage('ws_0123456789abcdef')).toMatchObject({ requests: 1, inputTokens: 3, outputTokens: 4, costUsd: 0.5, keyActive: true });
    expect(await store.sync('acl-host', Date.now() + 1000, [{ workspaceId: 'ws_fedcba9876543210', owner: 'o', keyHash: 'b'.repeat(64) }])).toEqual({
      added: 1,
      removed: 1,
    });
    expect(await store.revoke('ws_fedcba9876543210')).toBe(true);
    expect(await store.admit('b'.repeat(64))).toEqual({ outcome: 'unknown' });
    await refused(r.keys('berth:llm:*'));
    await refused(r.flushdb());
  });

  it('the default user may only PING, and a wrong password is refused', async () => {
    const d = as('default');
    expect(await d.ping()).toBe('PONG');
    await refused(d.get('berth:cb:ws_1'));
    const wrong = createRedis({ url: `redis://egress:wrong@127.0.0.1:${server.port}`, name: 'acl-wrong', logger });
    clients.push(wrong);
    await expect(wrong.get('berth:cb:ws_1')).rejects.toThrow();
  });
});
