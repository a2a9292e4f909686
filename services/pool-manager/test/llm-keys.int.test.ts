import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LLM_KEY_PATTERN, SUBJECTS, type CreateContainerReply } from '@berth/contracts';
import { bindHost, Redis, request, type NatsConnection } from '@berth/service-kit';
import { ServiceProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientNats, removeAllOf, startInfra, testHostEnv, waitFor, type Infra } from './harness.js';
import { inspectByBerthId, newRequestId, poolView, rejection, waitForWarm } from './helpers.js';

const OWNER = 'llm-owner';
const EGRESS_URL = 'http://egress.test:3128';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

interface Seen {
  subject: string;
  data: Record<string, unknown>;
  at: number;
}

/**
 * Plays egress's side of `berth.llmkey.*` on the real NATS: records every message, and answers
 * unless `silent` (then the request times out, as with an egress that hangs).
 */
function fakeEgress(nc: NatsConnection) {
  const seen: Seen[] = [];
  const state = { silent: false };
  const replies: Record<string, unknown> = {
    [SUBJECTS.llmKeyRegister.subject]: { registered: true },
    [SUBJECTS.llmKeyRevoke.subject]: { revoked: true },
    [SUBJECTS.llmKeySync.subject]: { added: 0, removed: 0 },
  };
  for (const subject of Object.keys(replies)) {
    nc.subscribe(subject, {
      callback: (_err, msg) => {
        seen.push({ subject, data: msg.json(), at: Date.now() });
        if (!state.silent) msg.respond(JSON.stringify(replies[subject]));
      },
    });
  }
  return { seen, state, of: (key: 'llmKeyRegister' | 'llmKeyRevoke' | 'llmKeySync') => seen.filter((s) => s.subject === SUBJECTS[key].subject) };
}

describe('scoped LLM keys in workspaces (pool-manager process, real Docker, NATS and Redis)', () => {
  let infra: Infra;
  let pm: ServiceProcess;
  let nc: NatsConnection & { close(): Promise<void> };
  let egress: ReturnType<typeof fakeEgress>;
  let env: Record<string, string>;
  let agentRoot: string;
  const minted: string[] = [];

  beforeAll(async () => {
    infra = await startInfra();
    nc = await clientNats(infra);
    egress = fakeEgress(nc);
    agentRoot = mkdtempSync(join(tmpdir(), 'berth-llm-test-'));
    env = {
      ...testHostEnv({ RECONCILE_INTERVAL_MS: '1500', LOG_LEVEL: 'debug', AGENT_SOCKET_DIR: agentRoot, LLM_EGRESS_URL: EGRESS_URL }),
      POOLS: JSON.stringify([{ name: 'default', targetSize: 2, minSize: 1, maxCreating: 2, memoryMb: 64, pids: 64 }]),
      NATS_URL: infra.nats.url,
      REDIS_URL: infra.redis.url,
    };
    bindHost(nc, env.BERTH_HOST_ID!);
    pm = new ServiceProcess('pool-manager', env, { keepAllOutput: true });
    pm.start();
    await waitFor(
      'pool-manager to answer',
      () =>
        request(nc, 'poolList', {}).then(
          () => true,
          () => false,
        ),
      60_000,
    );
    await waitForWarm(nc, 2, 90_000);
  });

  afterAll(async () => {
    await pm?.kill('SIGTERM');
    await nc?.close();
    if (env?.BERTH_HOST_ID) await removeAllOf(env.BERTH_HOST_ID);
    await infra?.dispose();
    rmSync(agentRoot, { recursive: true, force: true });
  });

  const claimed = new Set<string>();
  const claim = async (extra: Record<string, unknown> = {}) => {
    const ws = await request(nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER, ...extra }, { timeoutMs: 60_000 });
    claimed.add(ws.id);
    return ws;
  };
  const llmEnvOf = async (id: string, callerEnv?: Record<string, string>) => {
    const r = await request(
      nc,
      'containerExec',
      { id, owner: OWNER, command: 'env | grep -E "^(OPENAI|ANTHROPIC)_" | sort', env: callerEnv, timeoutMs: 10_000 },
      { timeoutMs: 20_000 },
    );
    return Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  };
  const keyFile = (id: string) => join(agentRoot, env.BERTH_HOST_ID!, id, 'llm-key');
  const registeredFor = (id: string) => egress.of('llmKeyRegister').filter((s) => s.data.workspaceId === id);

  it("a claimed workspace's commands get both SDKs' base URLs and a bk_ key whose hash was registered with owner and limits", async () => {
    const limits = { requestsPerMinute: 7, tokensPerDay: 5000, spendCapUsdPerDay: 1.25 };
    const ws = await claim({ llm: limits });
    expect(ws.warm).toBe(true);
    const vars = await llmEnvOf(ws.id);
    expect(vars.OPENAI_BASE_URL).toBe(`${EGRESS_URL}/llm/openai/v1`);
    expect(vars.ANTHROPIC_BASE_URL).toBe(`${EGRESS_URL}/llm/anthropic`);
    const key = vars.OPENAI_API_KEY!;
    expect(key).toMatch(LLM_KEY_PATTERN);
    expect(vars.ANTHROPIC_API_KEY).toBe(key);
    minted.push(key);
    expect(registeredFor(ws.id).map((s) => s.data)).toEqual([{ workspaceId: ws.id, owner: OWNER, hostId: env.BERTH_HOST_ID, keyHash: sha(key), limits }]);
    // The caller's own env wins over ours.
    expect((await llmEnvOf(ws.id, { OPENAI_API_KEY: 'mine' })).OPENAI_API_KEY).toBe('mine');
  });

  it('two workspaces, warm and cold, get different keys', async () => {
    const a = await claim();
    const cold = await claim({ ports: [3000, 3001] });
    expect(cold.warm).toBe(false);
    const [ka, kc] = [(await llmEnvOf(a.id)).OPENAI_API_KEY, (await llmEnvOf(cold.id)).OPENAI_API_KEY];
    expect(ka).toMatch(LLM_KEY_PATTERN);
    expect(kc).toMatch(LLM_KEY_PATTERN);
    expect(ka).not.toBe(kc);
    expect(registeredFor(cold.id)[0]?.data.keyHash).toBe(sha(kc!));
    minted.push(ka!, kc!);
  });

  it("revoke: the next command has no key, egress was told, and it is idempotent; someone else's workspace is not found", async () => {
    const ws = await claim();
    minted.push((await llmEnvOf(ws.id)).OPENAI_API_KEY!);
    const other = await rejection(request(nc, 'containerLlmKeyRevoke', { id: ws.id, owner: 'someone-else' }));
    expect(other.code).toBe('CONTAINER_NOT_FOUND');
    expect(existsSync(keyFile(ws.id))).toBe(true);
    expect(await request(nc, 'containerLlmKeyRevoke', { id: ws.id, owner: OWNER })).toEqual({ id: ws.id, llmKey: 'revoked' });
    expect(await llmEnvOf(ws.id)).toEqual({});
    expect(egress.of('llmKeyRevoke').map((s) => s.data)).toContainEqual({ workspaceId: ws.id });
    expect(await request(nc, 'containerLlmKeyRevoke', { id: ws.id, owner: OWNER })).toEqual({ id: ws.id, llmKey: 'revoked' });

    // Rotate after a revoke gives it a key again.
    expect(await request(nc, 'containerLlmKeyRotate', { id: ws.id, owner: OWNER })).toEqual({ id: ws.id, llmKey: 'active' });
    expect((await llmEnvOf(ws.id)).OPENAI_API_KEY).toMatch(LLM_KEY_PATTERN);
  });

  it("rotate: a new key for the next command, registered (with the claim's limits); egress silent → 503 and the old key stays", async () => {
    const ws = await claim({ llm: { tokensPerDay: 999 } });
    const old = (await llmEnvOf(ws.id)).OPENAI_API_KEY!;
    expect(await request(nc, 'containerLlmKeyRotate', { id: ws.id, owner: OWNER })).toEqual({ id: ws.id, llmKey: 'active' });
    const next = (await llmEnvOf(ws.id)).OPENAI_API_KEY!;
    expect(next).toMatch(LLM_KEY_PATTERN);
    expect(next).not.toBe(old);
    expect(registeredFor(ws.id).at(-1)?.data).toMatchObject({ keyHash: sha(next), limits: { tokensPerDay: 999 } });
    minted.push(old, next);

    egress.state.silent = true;
    try {
      const err = await rejection(request(nc, 'containerLlmKeyRotate', { id: ws.id, owner: OWNER }, { timeoutMs: 15_000 }));
      expect(err.code).toBe('SERVICE_UNAVAILABLE');
      expect(err.retryAfterSeconds).toBeGreaterThan(0);
    } finally {
      egress.state.silent = false;
    }
    expect((await llmEnvOf(ws.id)).OPENAI_API_KEY).toBe(next);
  });

  it("egress not answering: the claim still succeeds promptly, with a key that a later sync lists with the claim's limits", async () => {
    egress.state.silent = true;
    let ws: CreateContainerReply;
    const started = Date.now();
    try {
      ws = await claim({ llm: { tokensPerDay: 7 } });
    } finally {
      egress.state.silent = false;
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    const key = (await llmEnvOf(ws.id)).OPENAI_API_KEY!;
    expect(key).toMatch(LLM_KEY_PATTERN);
    minted.push(key);
    const since = Date.now();
    await waitFor(
      'a sync listing the key',
      () =>
        egress
          .of('llmKeySync')
          .some(
            (s) =>
              s.at > since &&
              (s.data.keys as { workspaceId: string; keyHash: string; limits?: unknown }[]).some(
                (k) => k.workspaceId === ws.id && k.keyHash === sha(key) && JSON.stringify(k.limits) === JSON.stringify({ tokensPerDay: 7 }),
              ),
          ),
      20_000,
    );
  });

  it("reconcile sends a sync of every claimed workspace's hash, with owner, host and asOf", async () => {
    const a = await claim();
    const b = await claim();
    const [ka, kb] = [(await llmEnvOf(a.id)).OPENAI_API_KEY!, (await llmEnvOf(b.id)).OPENAI_API_KEY!];
    minted.push(ka, kb);
    const since = Date.now();
    const sync = await waitFor('a sync after both claims', () => egress.of('llmKeySync').find((s) => s.at > since && (s.data.asOf as number) >= since), 20_000);
    expect(sync.data.hostId).toBe(env.BERTH_HOST_ID);
    const listed = sync.data.keys as { workspaceId: string; owner: string; keyHash: string }[];
    expect(listed).toEqual(
      expect.arrayContaining([
        { workspaceId: a.id, owner: OWNER, keyHash: sha(ka) },
        { workspaceId: b.id, owner: OWNER, keyHash: sha(kb) },
      ]),
    );
    // Exactly the claimed workspaces that have a key (revoked ones have none; warm ones are not listed).
    const { containers } = await request(nc, 'containerList', { owner: OWNER });
    const withKey = containers.map((c) => c.id).filter((id) => existsSync(keyFile(id)));
    expect(listed.map((k) => k.workspaceId).sort()).toEqual(withKey.sort());
  });

  it('delete: egress is told to revoke and the key file is gone', async () => {
    const ws = await claim();
    minted.push((await llmEnvOf(ws.id)).OPENAI_API_KEY!);
    expect(existsSync(keyFile(ws.id))).toBe(true);
    await request(nc, 'containerDelete', { id: ws.id, owner: OWNER }, { timeoutMs: 30_000 });
    await waitFor('revoke of the deleted workspace', () => egress.of('llmKeyRevoke').some((s) => s.data.workspaceId === ws.id), 10_000);
    expect(existsSync(keyFile(ws.id))).toBe(false);
  });

  it("only claimed workspaces' keys were ever registered (warm ones hold an unregistered key)", async () => {
    // Refill after the claims above can lag under load; the check means something only with warm ones.
    await waitFor('a warm workspace', async () => (await poolView(nc)).warm > 0, 60_000);
    const registered = new Set(egress.of('llmKeyRegister').map((s) => s.data.workspaceId as string));
    expect(registered.size).toBeGreaterThan(3);
    expect([...registered].filter((id) => !claimed.has(id))).toEqual([]);
  });

  it("no key is in container labels or docker inspect, in Redis, or in pool-manager's logs", async () => {
    const ws = await claim();
    minted.push((await llmEnvOf(ws.id)).OPENAI_API_KEY!);
    expect(minted.length).toBeGreaterThan(5);
    const { containers } = await request(nc, 'containerList', { owner: OWNER });
    const inspected = JSON.stringify(await Promise.all(containers.map((c) => inspectByBerthId(env.BERTH_HOST_ID!, c.id))));
    expect(inspected).toContain(ws.id);

    const redis = new Redis(infra.redis.url);
    const dump: string[] = [];
    try {
      for (const k of await redis.keys('*')) {
        const type = await redis.type(k);
        const value =
          type === 'hash'
            ? await redis.hgetall(k)
            : type === 'string'
              ? await redis.get(k)
              : type === 'set'
                ? await redis.smembers(k)
                : type === 'list'
                  ? await redis.lrange(k, 0, -1)
                  : type === 'zset'
                    ? await redis.zrange(k, 0, -1)
                    : type;
        dump.push(k, JSON.stringify(value));
      }
    } finally {
      redis.disconnect();
    }
    const redisText = dump.join('\n');
    expect(redisText).toContain(ws.id);
    expect(pm.allOutput.length).toBeGreaterThan(0);
    for (const key of minted) {
      expect(inspected).not.toContain(key);
      expect(redisText).not.toContain(key);
      expect(pm.allOutput).not.toContain(key);
      expect(pm.allOutput).not.toContain(key.slice(3));
    }
  });
});
