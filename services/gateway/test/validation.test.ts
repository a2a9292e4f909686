import { ErrorBodySchema, type ErrorCode } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, ID, JSON_HEADERS, build, containerView, type FakeBackend } from './helpers.js';

const LIMIT = 1024 * 1024;

let app: FastifyInstance;
let backend: FakeBackend;

beforeAll(async () => {
  ({ app, backend } = await build(
    {
      containerCreate: (req) => ({ ...containerView(), warm: true, name: req.name ?? 'x' }),
      containerExec: () => ({
        exitCode: 0,
        stdout: '',
        stderr: '',
        stdoutTruncated: false,
        stderrTruncated: false,
        truncated: false,
        timedOut: false,
        durationMs: 1,
      }),
    },
    { bodyLimitBytes: LIMIT },
  ));
});
afterAll(async () => {
  await app.close();
});

interface Case {
  name: string;
  method?: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  url?: string;
  headers?: Record<string, string>;
  payload?: string | object;
  status: number;
  code: ErrorCode;
}

const create = (payload: object | string, headers: Record<string, string> = JSON_HEADERS) => ({
  method: 'POST' as const,
  url: '/api/containers',
  headers,
  payload,
});

const cases: Case[] = [
  { name: 'unknown field', ...create({ colour: 'blue' }), status: 400, code: 'UNKNOWN_FIELD' },
  { name: 'privileged', ...create({ privileged: true }), status: 400, code: 'FORBIDDEN_OPTION' },
  { name: 'binds', ...create({ binds: ['/:/host'] }), status: 400, code: 'FORBIDDEN_OPTION' },
  { name: 'forbidden beats unknown', ...create({ colour: 'blue', capAdd: ['SYS_ADMIN'] }), status: 400, code: 'FORBIDDEN_OPTION' },
  { name: 'bad name', ...create({ name: 'bad name!' }), status: 400, code: 'INVALID_NAME' },
  { name: 'name with a slash', ...create({ name: 'a/b' }), status: 400, code: 'INVALID_NAME' },
  { name: 'volumeName /etc', ...create({ volumeName: '/etc' }), status: 400, code: 'INVALID_NAME' },
  { name: 'volumeName ../x', ...create({ volumeName: '../x' }), status: 400, code: 'INVALID_NAME' },
  { name: 'bad pool', ...create({ pool: 'UPPER' }), status: 400, code: 'INVALID_NAME' },
  { name: 'bad image', ...create({ image: 'registry:5000/x' }), status: 400, code: 'INVALID_NAME' },
  { name: 'name of the wrong type', ...create({ name: 42 }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'port out of range', ...create({ ports: [70000] }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'body is an array', ...create([]), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'body is a JSON string', ...create('"hello"'), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'body is null', ...create('null'), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'invalid JSON', ...create('{"name": '), status: 400, code: 'INVALID_JSON' },
  { name: 'proto poisoning', ...create('{"__proto__": {"x": 1}}'), status: 400, code: 'INVALID_JSON' },
  { name: 'empty JSON body', ...create(''), status: 400, code: 'INVALID_JSON' },
  { name: 'body over the limit', ...create(`{"name":"${'a'.repeat(LIMIT)}"}`), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'text/plain', ...create('{"name":"ok"}', { ...AUTH, 'content-type': 'text/plain' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'form body', ...create('name=ok', { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'bad Idempotency-Key', ...create({}, { ...JSON_HEADERS, 'idempotency-key': 'short' }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'Idempotency-Key with odd characters', ...create({}, { ...JSON_HEADERS, 'idempotency-key': 'abc def/ghi' }), status: 400, code: 'VALIDATION_FAILED' },
  {
    name: 'exec without command',
    method: 'POST',
    url: `/api/containers/${ID}/exec`,
    headers: JSON_HEADERS,
    payload: {},
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'exec with a huge timeout',
    method: 'POST',
    url: `/api/containers/${ID}/exec`,
    headers: JSON_HEADERS,
    payload: { command: 'ls', timeout: 10 ** 9 },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'exec with a fractional timeout',
    method: 'POST',
    url: `/api/containers/${ID}/exec`,
    headers: JSON_HEADERS,
    payload: { command: 'ls', timeout: 1.5 },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'exec with an unknown field',
    method: 'POST',
    url: `/api/containers/${ID}/exec`,
    headers: JSON_HEADERS,
    payload: { command: 'ls', user: 'root' },
    status: 400,
    code: 'FORBIDDEN_OPTION',
  },
  { name: 'exec with no body', method: 'POST', url: `/api/containers/${ID}/exec`, headers: AUTH, status: 400, code: 'VALIDATION_FAILED' },
  {
    name: 'exec with NUL in an argv element',
    method: 'POST',
    url: `/api/containers/${ID}/exec`,
    headers: JSON_HEADERS,
    payload: { command: ['echo', 'a\u0000b'] },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'streaming exec with NUL in an argv element',
    method: 'POST',
    url: `/api/containers/${ID}/exec?stream=true`,
    headers: JSON_HEADERS,
    payload: { command: ['\u0000'] },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'setup with a right-to-left override in the branch',
    method: 'POST',
    url: `/api/containers/${ID}/setup`,
    headers: JSON_HEADERS,
    payload: { repo: 'acme/web', branch: 'main\u202Egnp.exe' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'setup with a zero-width space in the repo',
    method: 'POST',
    url: `/api/containers/${ID}/setup`,
    headers: JSON_HEADERS,
    payload: { repo: 'acme/w\u200Beb', branch: 'main' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  { name: 'unknown route', method: 'GET', url: '/api/nope', headers: AUTH, status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'unknown route outside /api', method: 'GET', url: '/nope', status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'trailing slash', method: 'GET', url: '/api/containers/', headers: AUTH, status: 404, code: 'CONTAINER_NOT_FOUND' },
  { name: 'id that fails the pattern', method: 'GET', url: '/api/containers/abc', headers: AUTH, status: 404, code: 'CONTAINER_NOT_FOUND' },
  { name: 'id with path traversal', method: 'GET', url: '/api/containers/..%2F..%2Fetc', headers: AUTH, status: 404, code: 'CONTAINER_NOT_FOUND' },
  { name: 'overlong id', method: 'DELETE', url: `/api/containers/${'a'.repeat(500)}`, headers: AUTH, status: 404, code: 'ROUTE_NOT_FOUND' },
  {
    name: 'exec on a malformed id',
    method: 'POST',
    url: '/api/containers/ws_XYZ/exec',
    headers: JSON_HEADERS,
    payload: { command: 'ls' },
    status: 404,
    code: 'CONTAINER_NOT_FOUND',
  },
  { name: 'malformed URL escape', method: 'GET', url: '/api/containers/%zz', headers: AUTH, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'unknown route with a bad body', method: 'POST', url: '/api/nope', headers: JSON_HEADERS, payload: '{bad', status: 404, code: 'ROUTE_NOT_FOUND' },
  {
    name: 'unknown route outside /api with a bad body',
    method: 'POST',
    url: '/nope',
    headers: { 'content-type': 'application/json' },
    payload: '{bad',
    status: 404,
    code: 'ROUTE_NOT_FOUND',
  },
  { name: 'wrong method', method: 'PUT', url: '/api/containers', headers: JSON_HEADERS, payload: {}, status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'wrong method on an id', method: 'PUT', url: `/api/containers/${ID}`, headers: JSON_HEADERS, payload: {}, status: 405, code: 'METHOD_NOT_ALLOWED' },
];

describe('bad input never reaches pool-manager and never yields a 500', () => {
  it.each(cases)('$name → $status $code', async ({ method = 'GET', url = '/', headers, payload, status, code }) => {
    const before = backend.calls.length;
    const res = await app.inject({ method, url, ...(headers && { headers }), ...(payload !== undefined && { payload }) });
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = ErrorBodySchema.parse(res.json());
    expect(body.error.code).toBe(code);
    expect(body.error.retryable).toBe(false);
    expect(res.body).not.toMatch(/statusCode|FST_|\n\s+at /);
    expect(backend.calls.length).toBe(before);
  });

  it('names the offending fields in details', async () => {
    const res = await app.inject(create({ privileged: true, binds: [], colour: 'x' }));
    const body = ErrorBodySchema.parse(res.json());
    expect(body.error.details?.map((d) => d.path).sort()).toEqual(['binds', 'colour', 'privileged']);
  });

  it('405 lists the allowed methods', async () => {
    const res = await app.inject({ method: 'PUT', url: `/api/containers/${ID}`, headers: AUTH });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('DELETE, GET, HEAD, PATCH');
  });

  it('accepts a body just under the limit', async () => {
    const payload = JSON.stringify({ name: 'ok' }).padEnd(LIMIT, ' ');
    const res = await app.inject(create(payload));
    expect(res.statusCode).toBe(201);
  });

  it('accepts a POST with no body at all as an empty create', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/containers', headers: AUTH });
    expect(res.statusCode).toBe(201);
  });

  it('accepts application/json with a charset', async () => {
    const res = await app.inject(create({ name: 'ok' }, { ...AUTH, 'content-type': 'application/json; charset=utf-8' }));
    expect(res.statusCode).toBe(201);
  });
});
