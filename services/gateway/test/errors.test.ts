import { connect } from 'node:net';
import { BerthError, ErrorBodySchema, type ErrorCode } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, ID, JSON_HEADERS, build } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('errors from pool-manager', () => {
  const cases: [ErrorCode, number, number | undefined][] = [
    ['CONTAINER_NOT_FOUND', 404, undefined],
    ['CONTAINER_NOT_RUNNING', 409, undefined],
    ['NAME_CONFLICT', 409, undefined],
    ['IMAGE_NOT_ALLOWED', 400, undefined],
    ['CAPACITY_EXHAUSTED', 503, 5],
    ['PORTS_EXHAUSTED', 503, 2],
    ['SERVICE_UNAVAILABLE', 503, 1],
    ['RATE_LIMITED', 429, 30],
    ['TIMEOUT', 504, undefined],
  ];

  it.each(cases)('%s → %i (Retry-After %s)', async (code, status, retryAfterSeconds) => {
    const err = new BerthError(code, `pool-manager says ${code}`, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
    ({ app } = await build({
      containerGet: () => {
        throw err;
      },
    }));
    const res = await app.inject({ method: 'GET', url: `/api/containers/${ID}`, headers: AUTH });
    expect(res.statusCode).toBe(status);
    expect(res.headers['retry-after']).toBe(retryAfterSeconds === undefined ? undefined : String(retryAfterSeconds));
    expect(ErrorBodySchema.parse(res.json())).toEqual({ error: { ...err.toBody().error, requestId: res.headers['x-request-id'] } });
  });

  it('a subject nobody answers is 503 with Retry-After', async () => {
    ({ app } = await build({}));
    const res = await app.inject({ method: 'GET', url: '/api/pools', headers: AUTH });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE', retryable: true } });
  });
});

describe('a bug is a generic 500', () => {
  const thrown: [string, () => never][] = [
    [
      'a plain Error',
      () => {
        throw new Error('secret detail: /srv/berth/db.ts exploded');
      },
    ],
    [
      'a TypeError',
      () => {
        throw new TypeError("Cannot read properties of undefined (reading 'x')");
      },
    ],
    [
      'a string',
      () => {
        throw 'just a string';
      },
    ],
    [
      'an object with a 500 statusCode',
      () => {
        throw Object.assign(new Error('upstream'), { statusCode: 500 });
      },
    ],
  ];

  it.each(thrown)('%s → 500 INTERNAL "internal error", no stack', async (_name, boom) => {
    ({ app } = await build({ containerExec: boom, poolList: boom }));
    for (const req of [
      { method: 'GET' as const, url: '/api/pools', headers: AUTH },
      { method: 'POST' as const, url: `/api/containers/${ID}/exec`, headers: JSON_HEADERS, payload: { command: 'ls' } },
    ]) {
      const res = await app.inject(req);
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error', retryable: true, requestId: res.headers['x-request-id'] } });
      expect(res.body).not.toMatch(/\bat |stack|secret|exploded|TypeError|statusCode/);
    }
  });

  it('a reply that does not serialise is still our 500', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    ({ app } = await build({ poolList: () => cyclic as never }));
    const res = await app.inject({ method: 'GET', url: '/api/pools', headers: AUTH });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ error: { code: 'INTERNAL', message: 'internal error' } });
  });
});

describe('malformed HTTP', () => {
  it("is answered in our error format, not fastify's", async () => {
    ({ app } = await build());
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let buf = '';
      socket.on('data', (d: Buffer) => {
        buf += d.toString();
      });
      socket.on('close', () => resolve(buf));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    const body = ErrorBodySchema.parse(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)));
    expect(body.error.code).toBe('VALIDATION_FAILED');
  });

  /** Everything the server writes on one connection, until it closes it (or `idleMs` of silence). */
  const exchange = (port: number, bytes: string, idleMs = 1_000) =>
    new Promise<{ raw: string; closed: boolean }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
      let raw = '';
      const idle = setTimeout(() => {
        socket.destroy();
        resolve({ raw, closed: false });
      }, idleMs);
      socket.on('data', (d: Buffer) => {
        raw += d.toString('latin1');
      });
      socket.on('close', () => {
        clearTimeout(idle);
        resolve({ raw, closed: true });
      });
      socket.on('error', reject);
    });

  it.each([
    ['Connection: close', 'hello'],
    ['Connection: close', 'GET /api/pools HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['Connection: keep-alive', '\u0000\u0001junk'],
  ])('bytes behind a request still being answered (%s + %j): its answer alone, then the connection closes', async (connection, trailing) => {
    ({ app } = await build());
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    // A HEAD with an unannounced body, refused by the (asynchronous) auth hook.
    const { raw, closed } = await exchange(port, `HEAD /api/containers HTTP/1.1\r\nHost: x\r\n${connection}\r\n\r\n${trailing}`);
    expect(raw).toMatch(/^HTTP\/1\.1 401 /);
    expect(raw.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(raw.toLowerCase()).toContain('connection: close\r\n');
    expect(closed).toBe(true);
  });

  it('a malformed HEAD is answered without a body (its client reads none)', async () => {
    ({ app } = await build());
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const { raw, closed } = await exchange(port, 'HEAD %2fapi%2fcontainers HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw.endsWith('\r\n\r\n')).toBe(true);
    expect(closed).toBe(true);
  });

  it('a malformed request after a finished answer on a kept-alive connection still gets its 400', async () => {
    ({ app } = await build());
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
      let out = '';
      socket.on('data', (d: Buffer) => {
        if (!out) socket.write('NOT HTTP AT ALL\r\n\r\n'); // the first answer is in: now the junk
        out += d.toString('latin1');
      });
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
    expect(raw.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 503', 'HTTP/1.1 400']);
  });
});
