import { Writable } from 'node:stream';
import { ErrorBodySchema } from '@berth/contracts';
import { createLogger } from '@berth/service-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, build } from './helpers.js';

let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await build({ poolList: () => ({ pools: [] }) }));
});
afterAll(async () => {
  await app.close();
});

describe('x-request-id', () => {
  it('answers a new request id on every response, public, authenticated or not found', async () => {
    const seen = new Set<string>();
    for (const [url, headers] of [
      ['/health', {}],
      ['/api/pools', AUTH],
      ['/api/pools', {}],
      ['/api/nowhere', AUTH],
    ] as const) {
      const res = await app.inject({ method: 'GET', url, headers });
      const id = String(res.headers['x-request-id']);
      expect(id, url).toMatch(/^req_[0-9a-f]{24}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(4);
  });

  it("keeps the caller's own id, and puts it in error bodies", async () => {
    const ok = await app.inject({ method: 'GET', url: '/api/pools', headers: { ...AUTH, 'x-request-id': 'trace-42.a:b' } });
    expect(ok.headers['x-request-id']).toBe('trace-42.a:b');
    const denied = await app.inject({ method: 'GET', url: '/api/pools', headers: { 'x-request-id': 'caller-7' } });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['x-request-id']).toBe('caller-7');
    expect(ErrorBodySchema.parse(denied.json()).error.requestId).toBe('caller-7');
  });

  it('replaces a hostile id (too long, spaces, control bytes) with a new one', async () => {
    for (const given of ['x'.repeat(129), 'a b', 'a\tb', '<script>', '']) {
      const res = await app.inject({ method: 'GET', url: '/api/pools', headers: { ...AUTH, 'x-request-id': given } });
      expect(res.headers['x-request-id'], JSON.stringify(given)).toMatch(/^req_[0-9a-f]{24}$/);
    }
  });

  it('is on every log line of the request', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const { app: logged } = await build(
      {
        poolList: () => {
          throw new Error('boom');
        },
      },
      { logger: createLogger('gateway', 'info', sink) },
    );
    await logged.inject({ method: 'GET', url: '/api/pools', headers: { ...AUTH, 'x-request-id': 'req-log-canary' } });
    await logged.close();
    const mine = lines.filter((l) => l.includes('req-log-canary'));
    expect(mine.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(expect.arrayContaining(['unhandled error', 'request completed']));
  });
});
