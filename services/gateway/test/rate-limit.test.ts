import { ErrorBodySchema } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.js';
import type { RateLimitOptions } from '../src/rate-limit.js';
import { AUTH, build } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => { await app?.close(); app = undefined; });

/** A clock the test moves by hand, so refill is exact and nothing sleeps. */
function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

async function withLimits(limits: Omit<RateLimitOptions, 'now'>, now: () => number) {
  const built = await build({ poolList: () => ({ pools: [] }) }, { rateLimit: { ...limits, now } });
  app = built.app;
  return built;
}

const pools = (headers: Record<string, string> = AUTH, remoteAddress = '10.0.0.1') =>
  app!.inject({ method: 'GET', url: '/api/pools', headers, remoteAddress });

function expectRateLimited(res: Awaited<ReturnType<typeof pools>>): void {
  expect(res.statusCode).toBe(429);
  expect(ErrorBodySchema.parse(res.json()).error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
}

describe('per-caller token bucket', () => {
  it('allows a burst, then 429 with Retry-After, then refills at the rate', async () => {
    const c = clock();
    const { backend } = await withLimits({ rps: 2, burst: 5, authFailuresPerMinute: 0 }, c.now);
    for (let i = 0; i < 5; i++) expect((await pools()).statusCode, `request ${i}`).toBe(200);
    const over = await pools();
    expectRateLimited(over);
    expect(backend.calls).toHaveLength(5);

    c.advance(500); // 2 rps: one token back
    expect((await pools()).statusCode).toBe(200);
    expectRateLimited(await pools());
    c.advance(60_000); // never more than the burst
    for (let i = 0; i < 5; i++) expect((await pools()).statusCode).toBe(200);
    expectRateLimited(await pools());
  });

  it('counts every route under /api, unknown ones included', async () => {
    const c = clock();
    await withLimits({ rps: 1, burst: 2, authFailuresPerMinute: 0 }, c.now);
    expect((await app!.inject({ method: 'GET', url: '/api/nope', headers: AUTH })).statusCode).toBe(404);
    expect((await pools()).statusCode).toBe(200);
    expectRateLimited(await app!.inject({ method: 'GET', url: '/api/nope', headers: AUTH }));
  });

  it('leaves /health, /metrics and /docs alone', async () => {
    const c = clock();
    await withLimits({ rps: 1, burst: 1, authFailuresPerMinute: 0 }, c.now);
    await pools();
    expectRateLimited(await pools());
    expect((await app!.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    expect((await app!.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
  });

  it('rps 0 disables it', async () => {
    const c = clock();
    await withLimits({ rps: 0, burst: 1, authFailuresPerMinute: 0 }, c.now);
    for (let i = 0; i < 300; i++) expect((await pools()).statusCode).toBe(200);
  });
});

describe('failed authentication per remote address', () => {
  const wrong = { authorization: 'Bearer wrong-token-0000000000000' };

  it('after N 401s in a minute, that address gets 429 even with the right token; others do not', async () => {
    const c = clock();
    const { backend } = await withLimits({ rps: 0, burst: 1, authFailuresPerMinute: 5 }, c.now);
    for (let i = 0; i < 5; i++) expect((await pools(wrong)).statusCode).toBe(401);
    expectRateLimited(await pools(wrong));
    expectRateLimited(await pools(AUTH));
    expect(backend.calls).toHaveLength(0);
    expect((await pools(AUTH, '10.0.0.2')).statusCode).toBe(200);

    c.advance(60_000);
    expect((await pools(AUTH)).statusCode).toBe(200);
  });

  it('counts a missing token and a token for an unknown route as failures too', async () => {
    const c = clock();
    await withLimits({ rps: 0, burst: 1, authFailuresPerMinute: 2 }, c.now);
    expect((await pools({})).statusCode).toBe(401);
    expect((await app!.inject({ method: 'POST', url: '/api/nowhere', remoteAddress: '10.0.0.1' })).statusCode).toBe(401);
    expectRateLimited(await pools({}));
  });

  it('successful requests do not count', async () => {
    const c = clock();
    await withLimits({ rps: 0, burst: 1, authFailuresPerMinute: 2 }, c.now);
    for (let i = 0; i < 50; i++) expect((await pools(AUTH)).statusCode).toBe(200);
    expect((await pools(wrong)).statusCode).toBe(401);
    expect((await pools(AUTH)).statusCode).toBe(200);
  });

  it('0 disables it', async () => {
    const c = clock();
    await withLimits({ rps: 0, burst: 1, authFailuresPerMinute: 0 }, c.now);
    for (let i = 0; i < 100; i++) expect((await pools(wrong)).statusCode).toBe(401);
    expect((await pools(AUTH)).statusCode).toBe(200);
  });
});

describe('config', () => {
  it('defaults to 50 rps, burst 100, 30 failed authentications a minute', () => {
    expect(loadGatewayConfig({ BERTH_API_TOKEN: 'a'.repeat(16) })).toMatchObject({ RATE_LIMIT_RPS: 50, RATE_LIMIT_BURST: 100, AUTH_FAILURES_PER_MINUTE: 30 });
  });

  it('reads overrides, 0 included', () => {
    expect(loadGatewayConfig({ BERTH_API_TOKEN: 'a'.repeat(16), RATE_LIMIT_RPS: '0', RATE_LIMIT_BURST: '7', AUTH_FAILURES_PER_MINUTE: '0' }))
      .toMatchObject({ RATE_LIMIT_RPS: 0, RATE_LIMIT_BURST: 7, AUTH_FAILURES_PER_MINUTE: 0 });
  });
});
