import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi } from '../src/testing/api-call.js';

// The one HTTP helper tests share: what it sends, and how it reads JSON, text and empty answers.
let server: Server;
let base: string;
const seen: { method?: string; url?: string; headers?: IncomingHttpHeaders; body?: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.url === '/json') res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"w1"}');
      else if (req.url === '/text') res.writeHead(200, { 'content-type': 'text/plain' }).end('line one\n');
      else res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
});

describe('callApi', () => {
  it('sends the bearer token and a JSON body, and parses a JSON answer', async () => {
    const r = await callApi(base, 'tok', 'POST', '/json', { name: 'x' });
    expect(r).toMatchObject({ status: 201, text: '{"id":"w1"}', json: { id: 'w1' } });
    expect(r.headers.get('content-type')).toBe('application/json');
    const req = seen.at(-1);
    expect(req).toMatchObject({ method: 'POST', url: '/json', body: '{"name":"x"}' });
    expect(req?.headers).toMatchObject({ authorization: 'Bearer tok', 'content-type': 'application/json' });
  });

  it('sends no body or content type without a body; text and empty answers read as {} JSON', async () => {
    const text = await callApi(base, 'tok', 'GET', '/text');
    expect(text).toMatchObject({ status: 200, text: 'line one\n', json: {} });
    expect(seen.at(-1)?.headers?.['content-type']).toBeUndefined();
    expect(seen.at(-1)?.body).toBe('');
    expect(await callApi(base, 'tok', 'DELETE', '/none')).toMatchObject({ status: 204, text: '', json: {} });
  });
});
