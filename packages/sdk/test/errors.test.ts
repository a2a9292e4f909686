import { BerthError } from '@berth/contracts';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { Berth, BerthAbortError, BerthApiError, BerthNetworkError, BerthResponseError, BerthTimeoutError } from '../src/index.js';
import { FakeGateway, VIEW, apiError } from './fake-gateway.js';

let fake: FakeGateway;
let berth: Berth;
beforeAll(async () => {
  fake = await FakeGateway.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.seen.length = 0;
  // One attempt per call: these tests are about how each answer maps to an error, not retries.
  berth = new Berth({ url: `${fake.url}/`, apiKey: 'k-unit-secret', retry: { attempts: 1 } });
});

describe('error mapping', () => {
  test('an error body becomes a BerthApiError with the contracts code, status and retryability', async () => {
    fake.replies([404, apiError('CONTAINER_NOT_FOUND', false)]);
    const err = await berth.containers.get(VIEW.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthApiError);
    expect(err).toBeInstanceOf(BerthError);
    expect(err).toMatchObject({ code: 'CONTAINER_NOT_FOUND', status: 404, retryable: false, method: 'GET', path: `/api/containers/${VIEW.id}` });
    expect((err as Error).message).toContain('CONTAINER_NOT_FOUND');
    expect(fake.seen[0]?.headers.authorization).toBe('Bearer k-unit-secret');
  });

  test("carries the answer's request id, to quote in a report", async () => {
    fake.replies([404, apiError('CONTAINER_NOT_FOUND', false, { requestId: 'req_0123456789abcdef01234567' })]);
    await expect(berth.containers.get(VIEW.id)).rejects.toMatchObject({ requestId: 'req_0123456789abcdef01234567' });
  });

  test('Retry-After comes from the body, else from the header (seconds or a date)', async () => {
    fake.replies([503, apiError('CAPACITY_EXHAUSTED', true, { retryAfterSeconds: 7 }), { 'retry-after': '3' }]);
    await expect(berth.containers.list()).rejects.toMatchObject({ code: 'CAPACITY_EXHAUSTED', retryable: true, retryAfterSeconds: 7, status: 503 });
    fake.replies([503, apiError('SERVICE_UNAVAILABLE', true), { 'retry-after': '4' }]);
    await expect(berth.containers.list()).rejects.toMatchObject({ retryAfterSeconds: 4 });
    fake.replies([429, apiError('RATE_LIMITED', true), { 'retry-after': new Date(Date.now() + 5_000).toUTCString() }]);
    const err = (await berth.containers.list().catch((e: unknown) => e)) as BerthApiError;
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(4);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(6);
  });

  test('a body that is not JSON, or not what the schema says, is a BerthResponseError naming the field', async () => {
    fake.replies([200, '<html>proxy</html>']);
    await expect(berth.pools.list()).rejects.toThrow(/malformed response .*GET \/api\/pools.*not JSON/);
    fake.replies([200, { containers: [{ ...VIEW, id: 'nope' }], count: 1 }]);
    const err = await berth.containers.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthResponseError);
    expect((err as Error).message).toMatch(/containers\.0\.id/);
    fake.replies([502, { message: 'bad gateway' }]);
    await expect(berth.containers.list()).rejects.toMatchObject({ name: 'BerthResponseError', status: 502 });
    fake.replies([500, apiError('NOT_A_CODE', true)]);
    await expect(berth.containers.list()).rejects.toBeInstanceOf(BerthResponseError);
  });

  test('health answers a degraded gateway (503 with a health body) instead of throwing', async () => {
    fake.replies([503, { status: 'degraded', containerCount: 0, uptime: 3, version: '0.1.0' }]);
    await expect(berth.health()).resolves.toMatchObject({ status: 'degraded' });
  });
});

describe('deadlines and abort', () => {
  test('a call that gets no answer in timeoutMs throws BerthTimeoutError', async () => {
    fake.handler = () => {
      /* never answers */
    };
    const started = Date.now();
    const err = await berth.containers.list({ timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthTimeoutError);
    expect(err).toMatchObject({ timeoutMs: 150 });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('the client default timeout applies when a call has none', async () => {
    fake.handler = () => {};
    const quick = new Berth({ url: fake.url, apiKey: 'k', timeoutMs: 100 });
    await expect(quick.health()).rejects.toBeInstanceOf(BerthTimeoutError);
  });

  test('aborting the signal mid-call throws BerthAbortError carrying the reason', async () => {
    fake.handler = () => {};
    const ac = new AbortController();
    const pending = berth.containers.get(VIEW.id, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user gave up')), 50);
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthAbortError);
    expect(((err as Error).cause as Error).message).toBe('user gave up');
    await expect(berth.pools.list({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(BerthAbortError);
  });

  test('no listener is a BerthNetworkError naming the socket error', async () => {
    const closed = await FakeGateway.start();
    const url = closed.url;
    await closed.close();
    const err = await new Berth({ url, apiKey: 'k' }).health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthNetworkError);
    expect((err as Error).message).toContain('ECONNREFUSED');
  });
});

describe('container handle', () => {
  test('exec sends the command and its timeout, and waits longer than the command', async () => {
    fake.replies(
      [201, { ...VIEW, warm: true }],
      [200, { exitCode: 3, stdout: 'o', stderr: 'e', stdoutTruncated: false, stderrTruncated: false, truncated: false, timedOut: false, durationMs: 5 }],
    );
    const c = await berth.containers.create({ name: 'demo', pool: undefined });
    expect(c.warm).toBe(true);
    expect(JSON.parse(fake.seen[0]!.body)).toEqual({ name: 'demo' });
    const r = await c.exec(['ls', '-la'], { timeoutMs: 1234 });
    expect(r.exitCode).toBe(3);
    expect(fake.seen[1]).toMatchObject({ method: 'POST', url: `/api/containers/${VIEW.id}/exec` });
    expect(JSON.parse(fake.seen[1]!.body)).toEqual({ command: ['ls', '-la'], timeout: 1234 });
  });

  test('refresh reads the container again; delete removes it', async () => {
    fake.replies([200, VIEW], [200, { ...VIEW, lastActiveAt: '2025-01-02T00:00:00.000Z' }], [200, { id: VIEW.id, removed: true }]);
    const c = await berth.containers.get(VIEW.id);
    expect(c.lastActiveAt).toBeNull();
    await c.refresh();
    expect(c.lastActiveAt).toBe('2025-01-02T00:00:00.000Z');
    expect(c.toJSON()).toMatchObject({ id: VIEW.id, name: 'demo' });
    await c.delete();
    expect(fake.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      `GET /api/containers/${VIEW.id}`,
      `GET /api/containers/${VIEW.id}`,
      `DELETE /api/containers/${VIEW.id}`,
    ]);
  });
});
