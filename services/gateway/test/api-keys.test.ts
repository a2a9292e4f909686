import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@berth/service-kit';
import { ErrorBodySchema } from '@berth/contracts';
import { sleep } from '@berth/service-kit/testing';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.js';
import { KeyRing, type ApiKeyEntry } from '../src/keys/api-key.js';
import { loadKeysFile, watchKeysFile } from '../src/keys/key-file.js';
import { mintKey } from '../src/keys/mint.js';
import { ID, TOKEN, build, containerView, poolView } from './helpers.js';

const minted = (name: string, owner: string, scopes: ApiKeyEntry['scopes'], rateLimit?: ApiKeyEntry['rateLimit']) =>
  mintKey({ name, owner, scopes, ...(rateLimit && { rateLimit }) });
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const silent = createLogger('gateway', 'silent');

const reader = minted('alice-reader', 'alice', ['read']);
const writer = minted('alice-writer', 'alice', ['read', 'write']);
const runner = minted('bob-exec', 'bob', ['exec']);
const admin = minted('ops', 'ops', ['admin']);

describe('KeyRing', () => {
  it('finds a key by its hash, refuses near misses, and keeps the API token as an admin of owner default', () => {
    const ring = KeyRing.withToken(TOKEN, [reader.entry, runner.entry]);
    expect(ring.authenticate(reader.key)).toMatchObject({ name: 'alice-reader', owner: 'alice' });
    expect(ring.authenticate(runner.key)?.owner).toBe('bob');
    expect(ring.authenticate(TOKEN)).toMatchObject({ name: 'api-token', owner: 'default' });
    expect([...ring.authenticate(TOKEN)!.scopes].sort()).toEqual(['admin', 'exec', 'read', 'write']);
    for (const wrong of [reader.key.slice(0, -1), `${reader.key}x`, reader.entry.hash, '', 'bk_']) expect(ring.authenticate(wrong)).toBeUndefined();
  });

  it('replace swaps the whole set: old and new key both valid during a rotation, then only the new one', () => {
    const old = minted('agent', 'alice', ['read']);
    const next = minted('agent-2', 'alice', ['read']);
    const ring = new KeyRing([old.entry]);
    ring.replace([old.entry, next.entry]);
    expect(ring.authenticate(old.key)?.owner).toBe('alice');
    expect(ring.authenticate(next.key)?.owner).toBe('alice');
    ring.replace([next.entry]);
    expect(ring.authenticate(old.key)).toBeUndefined();
    expect(ring.authenticate(next.key)?.name).toBe('agent-2');
  });
});

describe('API keys on the routes', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const everything = {
    containerList: () => ({ containers: [], count: 0 }),
    containerGet: () => containerView(),
    containerCreate: () => ({ ...containerView(), warm: true }),
    containerDelete: () => ({ id: ID, removed: true as const }),
    containerExec: () => ({
      exitCode: 0,
      stdout: '',
      stderr: '',
      stdoutTruncated: false,
      stderrTruncated: false,
      durationMs: 1,
      timedOut: false,
      truncated: false,
    }),
    ticketCreate: () => ({ ticket: 'tk_0123456789abcdef0123456789abcdef', expiresAt: '2030-01-01T00:00:00.000Z' }),
    poolList: () => ({ pools: [] }),
    volumeList: () => ({ volumes: [], count: 0, limit: 20 }),
    volumeDelete: () => ({ name: 'data', removed: true as const }),
  };
  const ring = () => KeyRing.withToken(TOKEN, [reader.entry, writer.entry, runner.entry, admin.entry]);
  const calls: [string, string, Record<string, unknown>?][] = [
    ['GET', '/api/containers'],
    ['GET', `/api/containers/${ID}`],
    ['GET', '/api/pools'],
    ['POST', '/api/containers', {}],
    ['DELETE', `/api/containers/${ID}`],
    ['POST', `/api/containers/${ID}/exec`, { command: ['true'] }],
    ['POST', `/api/containers/${ID}/tickets`],
    ['GET', '/api/volumes'],
    ['DELETE', '/api/volumes/data'],
  ];
  const SCOPE: Record<string, string> = {
    'GET /api/containers': 'read',
    [`GET /api/containers/${ID}`]: 'read',
    'GET /api/pools': 'read',
    'POST /api/containers': 'write',
    [`DELETE /api/containers/${ID}`]: 'write',
    [`POST /api/containers/${ID}/exec`]: 'exec',
    [`POST /api/containers/${ID}/tickets`]: 'exec',
    'GET /api/volumes': 'read',
    'DELETE /api/volumes/data': 'write',
  };
  const send = (a: FastifyInstance, key: string, [method, url, body]: (typeof calls)[number]) =>
    a.inject({
      method: method as 'GET',
      url,
      headers: { ...bearer(key), ...(body && { 'content-type': 'application/json' }) },
      ...(body && { payload: body }),
    });

  it.each([
    ['alice-reader', reader.key, ['read']],
    ['alice-writer', writer.key, ['read', 'write']],
    ['bob-exec', runner.key, ['exec']],
    ['ops (admin)', admin.key, ['read', 'write', 'exec']],
    ['BERTH_API_TOKEN', TOKEN, ['read', 'write', 'exec']],
  ])('%s reaches exactly the routes of its scopes; the rest is 403 FORBIDDEN without reaching pool-manager', async (_name, key, allowed) => {
    let backend;
    ({ app, backend } = await build(everything, { keys: ring(), apiToken: undefined }));
    for (const call of calls) {
      const before = backend.calls.length;
      const res = await send(app, key, call);
      const scope = SCOPE[`${call[0]} ${call[1]}`]!;
      if (allowed.includes(scope)) {
        expect(res.statusCode, `${call[0]} ${call[1]}: ${res.body}`).toBeLessThan(300);
        expect(backend.calls.length).toBeGreaterThan(before);
      } else {
        expect(res.statusCode, `${call[0]} ${call[1]}`).toBe(403);
        expect(ErrorBodySchema.parse(res.json()).error).toMatchObject({ code: 'FORBIDDEN', retryable: false });
        expect(res.json().error.message).toContain(scope);
        expect(backend.calls.length).toBe(before);
      }
    }
  });

  it('every call carries the owner of the key that made it', async () => {
    let backend;
    ({ app, backend } = await build(everything, { keys: ring() }));
    await send(app, reader.key, calls[0]!);
    await send(app, runner.key, calls[5]!);
    await send(app, TOKEN, calls[0]!);
    expect(backend.calls.map((c) => (c.data as { owner: string }).owner)).toEqual(['alice', 'bob', 'default']);
  });

  it("GET /api/pools shows a template pool to its owner and to admins only: another owner's id and template stay hidden", async () => {
    ({ app } = await build(
      {
        poolList: () => ({
          pools: [
            poolView('default'),
            poolView('alice-tools', { template: 'alice-tools-template', owner: 'alice' }),
            poolView('bob-tools', { template: 'bob-tools-template', owner: 'bob' }),
          ],
        }),
      },
      { keys: ring() },
    ));
    const names = async (key: string) =>
      ((await app!.inject({ method: 'GET', url: '/api/pools', headers: bearer(key) })).json() as { pools: { name: string }[] }).pools.map((p) => p.name);
    expect(await names(reader.key)).toEqual(['default', 'alice-tools']);
    expect(await names(admin.key)).toEqual(['default', 'alice-tools', 'bob-tools']);
    expect(await names(TOKEN)).toEqual(['default', 'alice-tools', 'bob-tools']);
    // Paged, the hidden pool is neither on a page nor counted in a cursor.
    const first = (await app!.inject({ method: 'GET', url: '/api/pools?limit=1', headers: bearer(reader.key) })).json() as {
      pools: { name: string }[];
      nextCursor: string;
    };
    const second = (await app!.inject({ method: 'GET', url: `/api/pools?limit=1&cursor=${first.nextCursor}`, headers: bearer(reader.key) })).json() as {
      pools: { name: string }[];
      nextCursor?: string;
    };
    expect([...first.pools, ...second.pools].map((p) => p.name)).toEqual(['default', 'alice-tools']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('an unknown route stays 404 for a key of any scope, and an unknown key stays 401', async () => {
    ({ app } = await build(everything, { keys: ring() }));
    expect((await app.inject({ method: 'GET', url: '/api/nothing', headers: bearer(reader.key) })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/containers', headers: bearer(minted('x', 'x', ['admin']).key) })).statusCode).toBe(401);
  });

  it("each key has its own rate limit; a key's own quota overrides the default", async () => {
    const slow = minted('slow', 'alice', ['read'], { rps: 0.001, burst: 2 });
    const fast = minted('fast', 'alice', ['read']);
    ({ app } = await build(everything, { keys: new KeyRing([slow.entry, fast.entry]), rateLimit: { rps: 0.001, burst: 5, authFailuresPerMinute: 0 } }));
    const get = (key: string) => app!.inject({ method: 'GET', url: '/api/containers', headers: bearer(key) });
    expect((await get(slow.key)).statusCode).toBe(200);
    expect((await get(slow.key)).statusCode).toBe(200);
    const limited = await get(slow.key);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Same owner, other key: its own bucket with the default burst of 5.
    for (let i = 0; i < 5; i++) expect((await get(fast.key)).statusCode).toBe(200);
    expect((await get(fast.key)).statusCode).toBe(429);
  });

  it('builds with an empty ring: every request is 401', async () => {
    ({ app } = await build(everything, { keys: new KeyRing([]) }));
    expect((await app.inject({ method: 'GET', url: '/api/containers', headers: bearer(TOKEN) })).statusCode).toBe(401);
  });
});

describe('keys file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-keys-'));
  const write = (path: string, content: unknown) => {
    // Atomic replace, as a deploy tool does it: the watcher must see a rename too.
    writeFileSync(`${path}.tmp`, typeof content === 'string' ? content : JSON.stringify(content));
    renameSync(`${path}.tmp`, path);
  };

  it('loads a valid file; refuses bad JSON, unknown scopes, duplicate names and bad hashes, naming the field but never the content', () => {
    const path = join(dir, 'a.json');
    write(path, [reader.entry, { ...runner.entry, hash: `sha256:${runner.entry.hash}` }]);
    expect(loadKeysFile(path).map((k) => k.name)).toEqual(['alice-reader', 'bob-exec']);
    write(path, '{nope');
    expect(() => loadKeysFile(path)).toThrow(/not valid JSON/);
    write(path, [{ ...reader.entry, scopes: ['root'] }]);
    expect(() => loadKeysFile(path)).toThrow(/0\.scopes\.0/);
    write(path, [reader.entry, { ...writer.entry, name: reader.entry.name }]);
    expect(() => loadKeysFile(path)).toThrow(/duplicate key name/);
    write(path, [{ ...reader.entry, hash: 'abc' }]);
    let message = '';
    try {
      loadKeysFile(path);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/0\.hash/);
    expect(message).not.toContain(reader.entry.hash);
    expect(() => loadKeysFile(join(dir, 'missing.json'))).toThrow(/cannot be read \(ENOENT\)/);
  });

  it('reloads on change (rotation without restart), keeps the old keys when the new file is broken, and reloads on SIGHUP', async () => {
    const path = join(dir, 'b.json');
    const old = minted('agent', 'alice', ['read']);
    const next = minted('agent-next', 'alice', ['read']);
    write(path, [old.entry]);
    const ring = new KeyRing(loadKeysFile(path));
    const stop = watchKeysFile(path, ring, silent, 50);
    try {
      const until = async (what: string, ok: () => boolean) => {
        for (let i = 0; i < 500 && !ok(); i++) await sleep(20); // up to 10 s: a loaded machine delays the watcher
        expect(ok(), what).toBe(true);
      };
      write(path, [old.entry, next.entry]);
      await until('new key valid', () => ring.authenticate(next.key) !== undefined);
      expect(ring.authenticate(old.key)).toBeDefined();
      write(path, [next.entry]);
      await until('old key gone', () => ring.authenticate(old.key) === undefined);
      write(path, '[{"broken": true}]');
      await sleep(300);
      expect(ring.authenticate(next.key)?.name).toBe('agent-next');

      // SIGHUP: the same reload, on demand. Written without a rename and with the watcher stopped
      // from seeing it in time (a long interval), so only the signal can explain the change.
      stop();
      const stopSlow = watchKeysFile(path, ring, silent, 600_000);
      try {
        writeFileSync(path, JSON.stringify([old.entry]));
        expect(ring.authenticate(old.key)).toBeUndefined();
        process.emit('SIGHUP', 'SIGHUP');
        expect(ring.authenticate(old.key)?.name).toBe('agent');
        expect(ring.authenticate(next.key)).toBeUndefined();
      } finally {
        stopSlow();
      }
    } finally {
      stop();
    }
  }, 20_000); // its waits allow the watcher up to 10 s each on a loaded machine

  it('does not miss a change made between the first load and the start of the watch', () => {
    const path = join(dir, 'c.json');
    const old = minted('agent', 'alice', ['read']);
    const next = minted('agent-next', 'alice', ['read']);
    write(path, [old.entry]);
    const ring = new KeyRing(loadKeysFile(path));
    write(path, [next.entry]);
    // No poll runs within the test: only the watch's own start can pick the change up.
    const stop = watchKeysFile(path, ring, silent, 600_000);
    try {
      expect(ring.authenticate(next.key)?.name).toBe('agent-next');
      expect(ring.authenticate(old.key)).toBeUndefined();
    } finally {
      stop();
    }
  });
});

describe('config', () => {
  it('accepts a keys file without a token, and refuses neither', () => {
    expect(loadGatewayConfig({ BERTH_API_KEYS_FILE: '/etc/berth/keys.json' })).toMatchObject({
      BERTH_API_KEYS_FILE: '/etc/berth/keys.json',
      KEYS_RELOAD_INTERVAL_MS: 1000,
    });
    expect(() => loadGatewayConfig({})).toThrow(/BERTH_API_TOKEN or BERTH_API_KEYS_FILE/);
  });
});
