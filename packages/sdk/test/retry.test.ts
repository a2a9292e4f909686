import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { Berth, BerthApiError, BerthNetworkError, type RetryPolicy } from '../src/index.js';
import { retryDelay } from '../src/retry.js';
import { FakeGateway, VIEW, apiError } from './fake-gateway.js';

const FAST: Partial<RetryPolicy> = { attempts: 3, baseDelayMs: 10, maxDelayMs: 2_000 };
const CREATED = { ...VIEW, warm: true };
let fake: FakeGateway;
beforeAll(async () => {
  fake = await FakeGateway.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.seen.length = 0;
});

describe('Idempotency-Key', () => {
  test("a fresh random key on every create, or the caller's own", async () => {
    fake.replies([201, CREATED]);
    const berth = new Berth({ url: fake.url, apiKey: 'k' });
    await berth.containers.create();
    await berth.containers.create();
    await berth.containers.create({ idempotencyKey: 'my-key-123' });
    const keys = fake.seen.map((s) => s.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[A-Za-z0-9_-]{8,100}$/);
    expect(keys[1]).not.toBe(keys[0]);
    expect(keys[2]).toBe('my-key-123');
  });
});

describe('retry policy', () => {
  test('on by default: an idempotent call is retried after a 503, waiting out its Retry-After; exec and setup never are; attempts: 1 turns it off', async () => {
    fake.replies([503, apiError('SERVICE_UNAVAILABLE', true), { 'retry-after': '1' }], [200, { containers: [], count: 0 }]);
    const started = Date.now();
    await expect(new Berth({ url: fake.url, apiKey: 'k' }).containers.list()).resolves.toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.seen).toHaveLength(2);
    fake.seen.length = 0;
    // POSTs without an Idempotency-Key (exec, setup) are sent once.
    const berth = new Berth({ url: fake.url, apiKey: 'k' });
    fake.replies([200, VIEW]);
    const c = await berth.containers.get(VIEW.id);
    fake.seen.length = 0;
    fake.replies([503, apiError('SERVICE_UNAVAILABLE', true), { 'retry-after': '0' }]);
    await expect(c.exec('true')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await expect(c.setup({ repo: 'acme/app', branch: 'main' })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    fake.handler = (_req, res) => {
      res.socket?.destroy();
    };
    await expect(c.exec('true')).rejects.toBeInstanceOf(BerthNetworkError);
    expect(fake.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      `POST /api/containers/${VIEW.id}/exec`,
      `POST /api/containers/${VIEW.id}/setup`,
      `POST /api/containers/${VIEW.id}/exec`,
    ]);
    // retry: { attempts: 1 } turns retries off.
    fake.seen.length = 0;
    fake.replies([503, apiError('SERVICE_UNAVAILABLE', true)], [200, { containers: [], count: 0 }]);
    await expect(new Berth({ url: fake.url, apiKey: 'k', retry: { attempts: 1 } }).containers.list()).rejects.toBeInstanceOf(BerthApiError);
    expect(fake.seen).toHaveLength(1);
  });

  test("on by default: a 429, a proxy's 503 that is not a berth error, and a dropped connection are retried; DELETE too", async () => {
    const berth = new Berth({ url: fake.url, apiKey: 'k' });
    fake.replies([429, apiError('RATE_LIMITED', true), { 'retry-after': '0' }], [200, VIEW]);
    await expect(berth.containers.get(VIEW.id)).resolves.toMatchObject({ id: VIEW.id });
    fake.replies([503, '<html>upstream busy</html>', { 'content-type': 'text/html', 'retry-after': '0' }], [200, { id: VIEW.id, removed: true }]);
    await berth.containers.delete(VIEW.id);
    let n = 0;
    fake.handler = (_req, res) => {
      if (n++ === 0) {
        res.socket?.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pools: [] }));
    };
    await expect(berth.pools.list()).resolves.toEqual([]);
    expect(fake.seen.map((s) => s.method)).toEqual(['GET', 'GET', 'DELETE', 'DELETE', 'GET', 'GET']);
  });

  test('create is retried with the same Idempotency-Key, after the Retry-After wait', async () => {
    fake.replies([503, apiError('CAPACITY_EXHAUSTED', true), { 'retry-after': '1' }], [201, CREATED]);
    const berth = new Berth({ url: fake.url, apiKey: 'k', retry: FAST });
    const started = Date.now();
    const c = await berth.containers.create({ name: 'demo' });
    expect(c.id).toBe(VIEW.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.seen).toHaveLength(2);
    expect(fake.seen[1]?.headers['idempotency-key']).toBe(fake.seen[0]?.headers['idempotency-key']);
  });

  test('attempts are bounded, and the last error is thrown', async () => {
    fake.replies([500, apiError('INTERNAL', true)]);
    const berth = new Berth({ url: fake.url, apiKey: 'k', retry: FAST });
    await expect(berth.containers.get(VIEW.id)).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(fake.seen).toHaveLength(3);
  });

  test('non-retryable errors, exec, and a Retry-After beyond maxDelayMs are not retried', async () => {
    const berth = new Berth({ url: fake.url, apiKey: 'k', retry: FAST });
    fake.replies([409, apiError('NAME_CONFLICT', false)]);
    await expect(berth.containers.create({ name: 'taken' })).rejects.toMatchObject({ code: 'NAME_CONFLICT' });
    fake.replies([200, VIEW], [504, apiError('TIMEOUT', true)]);
    const c = await berth.containers.get(VIEW.id);
    await expect(c.exec('true')).rejects.toMatchObject({ code: 'TIMEOUT' });
    fake.replies([503, apiError('CAPACITY_EXHAUSTED', true, { retryAfterSeconds: 30 })]);
    await expect(berth.pools.list()).rejects.toMatchObject({ retryAfterSeconds: 30 });
    expect(fake.seen.map((s) => s.method)).toEqual(['POST', 'GET', 'POST', 'GET']);
  });

  test("a per-call policy overrides the client's, and a lost connection is retried", async () => {
    let n = 0;
    fake.handler = (_req, res) => {
      if (n++ === 0) {
        res.socket?.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pools: [] }));
    };
    const berth = new Berth({ url: fake.url, apiKey: 'k', retry: { attempts: 1 } });
    await expect(berth.pools.list()).rejects.toBeInstanceOf(BerthNetworkError);
    await expect(berth.pools.list({ retry: FAST })).resolves.toEqual([]);
  });

  test('the deadline covers the retries and their waits', async () => {
    fake.replies([503, apiError('CAPACITY_EXHAUSTED', true), { 'retry-after': '2' }]);
    const berth = new Berth({ url: fake.url, apiKey: 'k', retry: { attempts: 5, maxDelayMs: 5_000 } });
    const started = Date.now();
    await expect(berth.containers.list({ timeoutMs: 300 })).rejects.toMatchObject({ name: 'BerthTimeoutError' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  test('backoff doubles from baseDelayMs with jitter, capped at maxDelayMs', () => {
    const err = new BerthNetworkError({ method: 'GET', path: '/' }, new Error('x'));
    const policy: RetryPolicy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(retryDelay(err, 1, policy, () => 1)).toBe(100);
    expect(retryDelay(err, 3, policy, () => 0)).toBe(200);
    expect(retryDelay(err, 8, policy, () => 1)).toBe(1_000);
    expect(retryDelay(err, 10, policy)).toBeUndefined();
  });
});

describe('configuration', () => {
  test('new Berth() takes the URL and key from BERTH_URL and BERTH_API_KEY; options beat them', async () => {
    const saved = { url: process.env.BERTH_URL, key: process.env.BERTH_API_KEY };
    try {
      process.env.BERTH_URL = fake.url;
      process.env.BERTH_API_KEY = 'key-from-env-0123456789';
      fake.replies([200, { pools: [] }]);
      const berth = new Berth();
      expect(berth.url).toBe(fake.url);
      await berth.pools.list();
      await new Berth({ apiKey: 'key-from-options-0123' }).pools.list();
      expect(fake.seen.map((s) => s.headers.authorization)).toEqual(['Bearer key-from-env-0123456789', 'Bearer key-from-options-0123']);
      delete process.env.BERTH_API_KEY;
      expect(() => new Berth()).toThrow(/BERTH_API_KEY/);
      delete process.env.BERTH_URL;
      expect(() => new Berth({ apiKey: 'k' })).toThrow(/BERTH_URL/);
    } finally {
      for (const [name, value] of [
        ['BERTH_URL', saved.url],
        ['BERTH_API_KEY', saved.key],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  test('the fetch option is what every call goes through', async () => {
    const calls: string[] = [];
    const tracing: typeof fetch = (input, init) => {
      calls.push(`${init?.method ?? 'GET'} ${String(input)}`);
      return fetch(input, init);
    };
    fake.replies([200, { pools: [] }]);
    await new Berth({ url: fake.url, apiKey: 'k', fetch: tracing }).pools.list();
    expect(calls).toEqual([`GET ${fake.url}/api/pools`]);
  });
});

describe('the API key stays secret', () => {
  test('no error, its cause or the client itself shows it', async () => {
    const key = 'sk-very-secret-0123456789';
    const berth = new Berth({ url: fake.url, apiKey: key, retry: FAST });
    const errors: unknown[] = [];
    const capture = (p: Promise<unknown>) =>
      p.then(
        () => {
          throw new Error('expected a failure');
        },
        (e: unknown) => {
          errors.push(e);
        },
      );
    fake.replies([401, apiError('UNAUTHORIZED', false)]);
    await capture(berth.containers.list());
    fake.replies([200, 'not json']);
    await capture(berth.health());
    fake.handler = () => {};
    await capture(berth.pools.list({ timeoutMs: 50 }));
    await capture(berth.pools.list({ signal: AbortSignal.abort() }));
    await capture(new Berth({ url: 'http://127.0.0.1:1', apiKey: key }).health());
    fake.replies([200, VIEW]);
    const container = await berth.containers.get(VIEW.id);
    expect(errors).toHaveLength(5);
    for (const shown of [...errors, berth, container]) {
      const text = `${inspect(shown, { showHidden: true, depth: Infinity, getters: true })} ${JSON.stringify(shown)} ${String(shown)}`;
      expect(text).not.toContain(key);
    }
  });
});
