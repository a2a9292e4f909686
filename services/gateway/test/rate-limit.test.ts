import { ErrorBodySchema } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.js';
import type { RateLimitOptions } from '../src/rate-limit.js';
import { AUTH, build } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A clock the test moves by hand, so refill is exact and nothing sleeps. */
function clock() {
  let t = 1_000_000;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

async function withLimits(limits: Omit<RateLimitOptions, 'now'>, now: () => number) {
  const built = await build({ poolList: () => ({ pools: [] }) }, { rateLimit: { ...limits, now } });
  app = built.app;
  return built;
}

const pools = (headers: Record<string, string> = AUTH, remoteAddress = '10.0.0.1') => app!.inject({ method: 'GET', url: '/api/pools', headers, remoteAddress });

function expectRateLimited(res: Awaited<ReturnType<typeof pools>>): void {
  expect(res.statusCode).toBe(429);
  expect(ErrorBodySchema.parse(res.json()).error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
}

describe('per-caller token bucket', () => {
  it('tells every answer its RateLimit-* headers, counting down to 0 on the 429', async () => {
    const c = clock();
    await withLimits({ rps: 2, burst: 3, authFailuresPerMinute: 0 }, c.now);
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await pools();
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('3');
      expect(res.headers['ratelimit-policy']).toBe('3;w=2');
      remaining.push(String(res.headers['ratelimit-remaining']));
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const over = await pools();
    expectRateLimited(over);
    expect(over.headers['ratelimit-remaining']).toBe('0');
    expect(Number(over.headers['ratelimit-reset'])).toBeGreaterThanOrEqual(1);
    c.advance(500);
    expect((await pools()).headers['ratelimit-remaining']).toBe('0');
  });

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

  it("after N 401s in a minute, that address's failures get 429; the right token still passes, from there and elsewhere", async () => {
    const c = clock();
    const { backend } = await withLimits({ rps: 0, burst: 1, authFailuresPerMinute: 5 }, c.now);
    for (let i = 0; i < 5; i++) expect((await pools(wrong)).statusCode).toBe(401);
    expectRateLimited(await pools(wrong));
    expectRateLimited(await pools({}));
    expect(backend.calls).toHaveLength(0);
    // A guesser sharing the address (a NAT, a proxy) never locks the valid key out.
    expect((await pools(AUTH)).statusCode).toBe(200);
    expectRateLimited(await pools(wrong));
    expect((await pools(wrong, '10.0.0.2')).statusCode).toBe(401);
    expect((await pools(AUTH, '10.0.0.2')).statusCode).toBe(200);

    c.advance(60_000);
    expect((await pools(wrong)).statusCode).toBe(401);
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

describe('client address behind a reverse proxy (TRUST_PROXY)', () => {
  const wrong = { authorization: 'Bearer wrong-token-0000000000000' };
  const via = (client: string, headers: Record<string, string> = wrong) => ({ ...headers, 'x-forwarded-for': client });

  async function withProxyTrust(trustProxy: false | number | string[]) {
    const c = clock();
    const built = await build({ poolList: () => ({ pools: [] }) }, { trustProxy, rateLimit: { rps: 0, burst: 1, authFailuresPerMinute: 2, now: c.now } });
    app = built.app;
  }

  it('off (the default): X-Forwarded-For is ignored, so a guesser cannot dodge the limit by inventing clients', async () => {
    await withProxyTrust(false);
    expect((await pools(via('1.1.1.1'))).statusCode).toBe(401);
    expect((await pools(via('2.2.2.2'))).statusCode).toBe(401);
    expectRateLimited(await pools(via('3.3.3.3')));
  });

  it.each([
    ['a hop count', 1],
    ["the proxy's CIDR", ['10.0.0.0/24']],
  ] as const)('trusting %s: failures count per forwarded client, not per proxy', async (_what, trust) => {
    await withProxyTrust(typeof trust === 'number' ? trust : [...trust]);
    expect((await pools(via('198.51.100.7'))).statusCode).toBe(401);
    expect((await pools(via('198.51.100.7'))).statusCode).toBe(401);
    expectRateLimited(await pools(via('198.51.100.7')));
    // Another client behind the same proxy is not punished for the first one's guesses.
    expect((await pools(via('198.51.100.8'))).statusCode).toBe(401);
    expect((await pools(via('198.51.100.7', AUTH))).statusCode).toBe(200);
  });

  it('trusting a CIDR the peer is not in: the header is ignored', async () => {
    await withProxyTrust(['192.0.2.0/24']);
    expect((await pools(via('1.1.1.1'))).statusCode).toBe(401);
    expect((await pools(via('2.2.2.2'))).statusCode).toBe(401);
    expectRateLimited(await pools(via('3.3.3.3')));
  });
});

describe('config', () => {
  it('TRUST_PROXY: off by default; a hop count; a list of addresses and CIDRs; anything else refused', () => {
    const base = { BERTH_API_TOKEN: 'a'.repeat(16) };
    expect(loadGatewayConfig(base).TRUST_PROXY).toBe(false);
    expect(loadGatewayConfig({ ...base, TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadGatewayConfig({ ...base, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    for (const bad of ['true', 'proxy.example', '10.0.0.0/33', '10.0.0.1/8/1'])
      expect(() => loadGatewayConfig({ ...base, TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY/);
  });

  it('defaults to 50 rps, burst 100, 30 failed authentications a minute', () => {
    expect(loadGatewayConfig({ BERTH_API_TOKEN: 'a'.repeat(16) })).toMatchObject({ RATE_LIMIT_RPS: 50, RATE_LIMIT_BURST: 100, AUTH_FAILURES_PER_MINUTE: 30 });
  });

  it('reads overrides, 0 included', () => {
    expect(loadGatewayConfig({ BERTH_API_TOKEN: 'a'.repeat(16), RATE_LIMIT_RPS: '0', RATE_LIMIT_BURST: '7', AUTH_FAILURES_PER_MINUTE: '0' })).toMatchObject({
      RATE_LIMIT_RPS: 0,
      RATE_LIMIT_BURST: 7,
      AUTH_FAILURES_PER_MINUTE: 0,
    });
  });
});
