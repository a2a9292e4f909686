import { Writable } from 'node:stream';
import { createLogger } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import { ID, JSON_HEADERS, TOKEN, build } from './helpers.js';

describe('logging', () => {
  it('never writes the bearer token, right or wrong, even at trace level', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const wrong = 'wrong-token-that-must-not-leak-1234';
    const { app } = await build(
      {
        poolList: () => {
          throw new Error('boom');
        },
        containerGet: () => {
          throw new Error('boom');
        },
      },
      { logger: createLogger('gateway', 'trace', sink) },
    );
    await app.inject({ method: 'GET', url: '/api/pools', headers: JSON_HEADERS });
    await app.inject({ method: 'GET', url: `/api/containers/${ID}`, headers: JSON_HEADERS });
    await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: '{bad' });
    await app.inject({ method: 'GET', url: '/api/pools', headers: { authorization: `Bearer ${wrong}` } });
    await app.inject({ method: 'GET', url: '/api/nothing', headers: { authorization: `Bearer ${TOKEN}` } });
    await app.close();

    const out = lines.join('');
    expect(out).toContain('"service":"gateway"');
    expect(out).toContain('unhandled error');
    expect(out).toContain('request completed');
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain(wrong);
  });

  it('never writes a credential from the query string (?ticket=, ?token=, ?key=...) in request lines', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const secret = 'query-secret-that-must-not-leak-5678';
    const { app } = await build({ poolList: () => ({ pools: [] }) }, { logger: createLogger('gateway', 'info', sink) });
    for (const name of ['token', 'ticket', 'api_key', 'secret', 'signature']) {
      await app.inject({ method: 'GET', url: `/api/pools?x=1&${name}=${secret}`, headers: JSON_HEADERS });
      await app.inject({ method: 'GET', url: `/api/containers/${ID}/terminal?${name}=${secret}` });
    }
    await app.close();
    const out = lines.join('');
    expect(out).toContain('incoming request');
    expect(out).toContain('/api/pools?x=1&token=[redacted]');
    expect(out).not.toContain(secret);
  });

  it('redacts req.headers.authorization if something logs the request headers', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    createLogger('gateway', 'info', sink).info({ req: { headers: { authorization: `Bearer ${TOKEN}` } } }, 'x');
    expect(lines.join('')).not.toContain(TOKEN);
  });
});
