import {
  BerthError,
  ContainerListSchema,
  ContainerViewSchema,
  CreateContainerReplySchema,
  DeleteContainerReplySchema,
  EXEC_DEFAULT_TIMEOUT_MS,
  ExecResultSchema,
  PoolListSchema,
  type CreateContainerRequest,
  type ExecResult,
} from '@berth/contracts';
import { injectTrace } from '@berth/service-kit';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { EXEC_REPLY_MARGIN_MS } from '../src/routes/exec.js';
import { AUTH, ID, JSON_HEADERS, build, containerView } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const created = (req: CreateContainerRequest) => ({ ...containerView(), name: req.name ?? 'auto', warm: true });
const execResult: ExecResult = {
  exitCode: 0,
  stdout: 'hi\n',
  stderr: '',
  stdoutTruncated: false,
  stderrTruncated: false,
  truncated: false,
  timedOut: false,
  durationMs: 12,
};

describe('containers', () => {
  it('lists', async () => {
    ({ app } = await build({ containerList: () => ({ containers: [containerView()], count: 1 }) }));
    const res = await app.inject({ method: 'GET', url: '/api/containers', headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(ContainerListSchema.parse(res.json()).containers[0]?.id).toBe(ID);
  });

  it('gets one, passing id and owner', async () => {
    let backend;
    ({ app, backend } = await build({ containerGet: (req) => containerView(req.id) }));
    const res = await app.inject({ method: 'GET', url: `/api/containers/${ID}`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(ContainerViewSchema.parse(res.json()).id).toBe(ID);
    expect(backend.calls[0]).toMatchObject({ key: 'containerGet', data: { id: ID, owner: 'default' }, opts: { timeoutMs: 30_000 } });
  });

  it('an unknown id is 404 CONTAINER_NOT_FOUND', async () => {
    ({ app } = await build({
      containerGet: () => {
        throw new BerthError('CONTAINER_NOT_FOUND', 'container not found');
      },
    }));
    const res = await app.inject({ method: 'GET', url: '/api/containers/ws_ffffffffffffffff', headers: AUTH });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'CONTAINER_NOT_FOUND' } });
  });

  it('creates: 201, body passed on, fresh requestId, default owner', async () => {
    let backend;
    ({ app, backend } = await build({ containerCreate: created }, { requestTimeoutMs: 12_345 }));
    const body = { name: 'agent-7', pool: 'default', ports: [3000], volumeName: 'cache-1', image: 'berth/workspace:latest' };
    const res = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: body });
    expect(res.statusCode).toBe(201);
    expect(CreateContainerReplySchema.parse(res.json())).toMatchObject({ name: 'agent-7', warm: true });
    const call = backend.callsTo('containerCreate')[0];
    expect(call?.data).toMatchObject({ ...body, owner: 'default' });
    expect((call?.data as CreateContainerRequest).requestId).toMatch(/^req_[0-9a-f]{24}$/);
    expect(call?.opts?.timeoutMs).toBe(12_345);
  });

  it('uses a fresh requestId per request without Idempotency-Key', async () => {
    let backend;
    ({ app, backend } = await build({ containerCreate: created }));
    await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: {} });
    await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: {} });
    const [a, b] = backend.callsTo('containerCreate').map((c) => (c.data as CreateContainerRequest).requestId);
    expect(a).not.toBe(b);
  });

  it('derives the requestId from Idempotency-Key, stable per key and owner', async () => {
    let backend;
    ({ app, backend } = await build({ containerCreate: created }));
    const send = (key: string) => app!.inject({ method: 'POST', url: '/api/containers', headers: { ...JSON_HEADERS, 'idempotency-key': key }, payload: {} });
    expect((await send('retry-key_0001')).statusCode).toBe(201);
    await send('retry-key_0001');
    await send('retry-key_0002');
    const [a, b, c] = backend.callsTo('containerCreate').map((x) => (x.data as CreateContainerRequest).requestId);
    expect(a).toMatch(/^idem_[0-9a-f]{40}$/);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(a).not.toContain('retry-key');
  });

  it('sends the hash of the parsed body with an Idempotency-Key: equal for the same body however spelled, different for another body', async () => {
    let backend;
    ({ app, backend } = await build({ containerCreate: created }));
    const send = (payload: string, key?: string) =>
      app!.inject({
        method: 'POST',
        url: '/api/containers',
        payload,
        headers: { ...JSON_HEADERS, ...(key && { 'idempotency-key': key }) },
      });
    await send('{"name":"agent-1","pool":"default"}', 'retry-key_0003');
    await send('{ "pool": "default",\n "name": "agent-1" }', 'retry-key_0003');
    await send('{"name":"agent-2","pool":"default"}', 'retry-key_0003');
    await send('{"name":"agent-1","pool":"default"}');
    const [a, b, c, none] = backend.callsTo('containerCreate').map((x) => (x.data as CreateContainerRequest).bodyHash);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(none).toBeUndefined();
  });

  it('a reused Idempotency-Key that pool-manager refuses is 422 IDEMPOTENCY_KEY_REUSED', async () => {
    ({ app } = await build({
      containerCreate: () => {
        throw new BerthError('IDEMPOTENCY_KEY_REUSED', 'used with a different body');
      },
    }));
    const res = await app.inject({
      method: 'POST',
      url: '/api/containers',
      headers: { ...JSON_HEADERS, 'idempotency-key': 'retry-key_0004' },
      payload: { name: 'x2' },
    });
    expect([res.statusCode, res.json().error.code, res.json().error.retryable]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED', false]);
  });

  it('retries a create once on TIMEOUT with the same requestId', async () => {
    let attempts = 0;
    let backend;
    ({ app, backend } = await build({
      containerCreate: (req) => {
        attempts += 1;
        if (attempts === 1) throw new BerthError('TIMEOUT', 'berth.container.create did not answer in time');
        return created(req);
      },
    }));
    const res = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: { name: 'agent-1' } });
    expect(res.statusCode).toBe(201);
    const calls = backend.callsTo('containerCreate');
    expect(calls).toHaveLength(2);
    expect(calls[1]?.data).toEqual(calls[0]?.data);
  });

  it('gives up after the second TIMEOUT: 504', async () => {
    let backend;
    ({ app, backend } = await build({
      containerCreate: () => {
        throw new BerthError('TIMEOUT', 'no answer');
      },
    }));
    const res = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: {} });
    expect(res.statusCode).toBe(504);
    expect(res.json()).toMatchObject({ error: { code: 'TIMEOUT', retryable: true } });
    expect(backend.callsTo('containerCreate')).toHaveLength(2);
  });

  it.each(['CAPACITY_EXHAUSTED', 'SERVICE_UNAVAILABLE', 'NAME_CONFLICT'] as const)('does not retry %s', async (code) => {
    let backend;
    ({ app, backend } = await build({
      containerCreate: () => {
        throw new BerthError(code, 'no');
      },
    }));
    await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: {} });
    expect(backend.callsTo('containerCreate')).toHaveLength(1);
  });

  it('deletes', async () => {
    let backend;
    ({ app, backend } = await build({ containerDelete: (req) => ({ id: req.id, removed: true as const }) }));
    const res = await app.inject({ method: 'DELETE', url: `/api/containers/${ID}`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(DeleteContainerReplySchema.parse(res.json())).toEqual({ id: ID, removed: true });
    expect(backend.calls[0]?.data).toEqual({ id: ID, owner: 'default' });
  });

  it("continues a well-formed traceparent (same trace, the gateway's own parent id), and starts a new trace for a malformed one", async () => {
    let backend;
    ({ app, backend } = await build({ containerDelete: (req) => ({ id: req.id, removed: true as const }) }));
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await app.inject({ method: 'DELETE', url: `/api/containers/${ID}`, headers: { ...AUTH, traceparent: tp } });
    await app.inject({ method: 'DELETE', url: `/api/containers/${ID}`, headers: { ...AUTH, traceparent: 'evil\r\nx' } });
    const [kept, fresh] = backend.calls.map((c) => {
      let tp = '';
      injectTrace((k, v) => {
        if (k === 'traceparent') tp = v;
      }, c.opts?.trace);
      return tp;
    });
    expect(kept).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[\da-f]{16}-01$/);
    expect(kept).not.toBe(tp);
    expect(fresh).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);
    expect(fresh).not.toContain('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});

describe('exec', () => {
  it('runs with the default timeout and waits that long plus a margin', async () => {
    let backend;
    ({ app, backend } = await build({ containerExec: () => execResult }));
    const res = await app.inject({ method: 'POST', url: `/api/containers/${ID}/exec`, headers: JSON_HEADERS, payload: { command: 'echo hi' } });
    expect(res.statusCode).toBe(200);
    expect(ExecResultSchema.parse(res.json())).toEqual(execResult);
    expect(backend.calls[0]).toMatchObject({
      key: 'containerExec',
      data: { id: ID, owner: 'default', command: 'echo hi', timeoutMs: EXEC_DEFAULT_TIMEOUT_MS },
      opts: { timeoutMs: EXEC_DEFAULT_TIMEOUT_MS + EXEC_REPLY_MARGIN_MS },
    });
  });

  it('passes an argv command and its own timeout', async () => {
    let backend;
    ({ app, backend } = await build({ containerExec: () => ({ ...execResult, exitCode: null, timedOut: true }) }));
    const res = await app.inject({
      method: 'POST',
      url: `/api/containers/${ID}/exec`,
      headers: JSON_HEADERS,
      payload: { command: ['ls', '-la'], timeout: 120_000 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ timedOut: true, exitCode: null });
    expect(backend.calls[0]).toMatchObject({ data: { command: ['ls', '-la'], timeoutMs: 120_000 }, opts: { timeoutMs: 120_000 + EXEC_REPLY_MARGIN_MS } });
  });
});

describe('pools', () => {
  it('lists', async () => {
    const pool = {
      name: 'default',
      image: 'berth/workspace:latest',
      targetSize: 3,
      minSize: 1,
      maxCreating: 2,
      containerPorts: [3000],
      cpus: 1,
      memoryMb: 512,
      pids: 256,
      warm: 2,
      creating: 1,
      claimed: 4,
    };
    let backend;
    ({ app, backend } = await build({ poolList: () => ({ pools: [pool] }) }));
    const res = await app.inject({ method: 'GET', url: '/api/pools', headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(PoolListSchema.parse(res.json())).toEqual({ pools: [pool] });
    expect(backend.calls[0]?.data).toEqual({});
  });
});
