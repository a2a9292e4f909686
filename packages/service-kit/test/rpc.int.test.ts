import { Writable } from 'node:stream';
import { BerthError, type PoolList } from '@berth/contracts';
import { startNatsServer, type ServerProcess } from '@berth/service-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectNats, createLogger, drainNats, extractTrace, injectTrace, request, serve, type NatsConnection } from '../src/index.js';

const traceFrom = (traceparent: string) => extractTrace((k) => (k === 'traceparent' ? traceparent : undefined));

const logger = createLogger('rpc-test', 'silent');

const POOLS: PoolList = {
  pools: [
    {
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
      claimed: 0,
    },
  ],
};

/** Resolves with the error a promise rejects with; fails the test if it resolves. */
async function rejection(p: Promise<unknown>): Promise<BerthError> {
  const outcome = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.v)}`);
  expect(outcome.e).toBeInstanceOf(BerthError);
  return outcome.e as BerthError;
}

describe('rpc over a real nats-server', () => {
  let nats: ServerProcess & { url: string };
  let server: NatsConnection;
  let client: NatsConnection;
  const extra: NatsConnection[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    server = await connectNats({ url: nats.url, name: 'test-server', logger });
    client = await connectNats({ url: nats.url, name: 'test-client', logger });
  });

  afterEach(async () => {
    for (const nc of extra.splice(0)) await nc.close();
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    await nats?.dispose();
  });

  /** A separate serving connection per test, so handlers of one test never answer another. */
  async function servingConnection(): Promise<NatsConnection> {
    const nc = await connectNats({ url: nats.url, name: 'test-handler', logger });
    extra.push(nc);
    return nc;
  }

  it('serve() and request() round-trip a typed request and reply', async () => {
    const nc = await servingConnection();
    const seen: unknown[] = [];
    serve(
      nc,
      'poolList',
      async (req, ctx) => {
        seen.push({ req, traceId: ctx.traceId });
        return POOLS;
      },
      logger,
    );
    await nc.flush();

    const caller = traceFrom('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    await expect(request(client, 'poolList', {}, { timeoutMs: 2_000, trace: caller })).resolves.toEqual(POOLS);
    expect(seen).toEqual([{ req: {}, traceId: '0af7651916cd43dd8448eb211c80319c' }]);
  });

  it("a request made inside a handler carries the trace on, and the handler's log lines carry trace_id", async () => {
    const nc = await servingConnection();
    const lines: { msg: string; trace_id?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(JSON.parse(chunk.toString()) as { msg: string });
        cb();
      },
    });
    const traced = createLogger('rpc-trace', 'info', sink);
    const nested: (string | undefined)[] = [];
    serve(
      nc,
      'hostStatus',
      async () => {
        injectTrace((k, v) => {
          if (k === 'traceparent') nested.push(v);
        });
        traced.info('inner');
        return { hostId: 'h', containers: { total: 0, warm: 0, claimed: 0, creating: 0 }, capacity: { maxContainers: 1, maxMemoryMb: 1, usedMemoryMb: 0 } };
      },
      logger,
    );
    serve(
      nc,
      'poolList',
      async (_req, ctx) => {
        traced.info('outer');
        await request(nc, 'hostStatus', {}, { timeoutMs: 2_000 });
        expect(ctx.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
        return POOLS;
      },
      logger,
    );
    await nc.flush();
    await request(client, 'poolList', {}, { timeoutMs: 2_000, trace: traceFrom('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') });
    expect(nested[0]).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[\da-f]{16}-01$/);
    expect(nested[0]).not.toContain('b7ad6b7169203331');
    expect(lines.map((l) => [l.msg, l.trace_id])).toEqual([
      ['outer', '0af7651916cd43dd8448eb211c80319c'],
      ['inner', '0af7651916cd43dd8448eb211c80319c'],
    ]);
  });

  it('a BerthError from the handler arrives with the same code, message and retryAfterSeconds', async () => {
    const nc = await servingConnection();
    serve(nc, 'poolList', () => Promise.reject(new BerthError('CAPACITY_EXHAUSTED', 'no warm container', { retryAfterSeconds: 2 })), logger);
    await nc.flush();

    const err = await rejection(request(client, 'poolList', {}, { timeoutMs: 2_000 }));
    expect(err.code).toBe('CAPACITY_EXHAUSTED');
    expect(err.message).toBe('no warm container');
    expect(err.retryAfterSeconds).toBe(2);
    expect(err.retryable).toBe(true);
  });

  it('a plain Error from the handler arrives as INTERNAL "internal error", without its detail', async () => {
    const nc = await servingConnection();
    serve(nc, 'poolList', () => Promise.reject(new Error('redis password hunter2 rejected')), logger);
    await nc.flush();

    const err = await rejection(request(client, 'poolList', {}, { timeoutMs: 2_000 }));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toBe('internal error');
    expect(JSON.stringify(err.toBody())).not.toContain('hunter2');
  });

  it('Redis out of reach in a handler arrives as a retryable SERVICE_UNAVAILABLE, not INTERNAL', async () => {
    const nc = await servingConnection();
    const unreachable = Object.assign(
      new Error('Reached the max retries per request limit (which is 2). Refer to "maxRetriesPerRequest" option for details.'),
      { name: 'MaxRetriesPerRequestError' },
    );
    serve(nc, 'poolList', () => Promise.reject(unreachable), logger);
    await nc.flush();

    const err = await rejection(request(client, 'poolList', {}, { timeoutMs: 2_000 }));
    expect(err.code).toBe('SERVICE_UNAVAILABLE');
    expect(err.retryable).toBe(true);
  });

  it('a reply that breaks its schema arrives as INTERNAL, not as the bad data', async () => {
    const nc = await servingConnection();
    serve(nc, 'poolList', () => Promise.resolve({ pools: 'not a list' } as unknown as PoolList), logger);
    await nc.flush();

    const err = await rejection(request(client, 'poolList', {}, { timeoutMs: 2_000 }));
    expect(err.code).toBe('INTERNAL');
  });

  it('the server refuses an invalid request with its validation code, before calling the handler', async () => {
    const nc = await servingConnection();
    const handler = vi.fn(() => Promise.resolve({ containers: [], count: 0 }));
    serve(nc, 'containerList', handler, logger);
    await nc.flush();

    // Bypass request()'s own check to see the serving side's.
    const msg = await client.request('berth.host.local.container.list', JSON.stringify({ owner: 42 }), { timeout: 2_000 });
    expect(msg.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', retryable: false } });
    const notJson = await client.request('berth.host.local.container.list', 'not json', { timeout: 2_000 });
    expect(notJson.json()).toMatchObject({ error: { code: 'INVALID_JSON', retryable: false } });
    expect(handler).not.toHaveBeenCalled();
  });

  it('request() with nobody serving the subject fails fast with SERVICE_UNAVAILABLE', async () => {
    const started = Date.now();
    const err = await rejection(request(client, 'hostStatus', {}, { timeoutMs: 5_000 }));
    expect(err.code).toBe('SERVICE_UNAVAILABLE');
    expect(err.retryAfterSeconds).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a handler that does not answer within timeoutMs gives TIMEOUT', async () => {
    const nc = await servingConnection();
    let release: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      release = resolve;
    });
    serve(
      nc,
      'poolList',
      async () => {
        await answered;
        return POOLS;
      },
      logger,
    );
    await nc.flush();

    const started = Date.now();
    const err = await rejection(request(client, 'poolList', {}, { timeoutMs: 300 }));
    release();
    expect(err.code).toBe('TIMEOUT');
    expect(err.retryable).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('an invalid request is refused locally and never sent', async () => {
    const nc = await servingConnection();
    const sub = nc.subscribe('berth.container.>');
    await nc.flush();

    const err = await rejection(request(client, 'containerGet', { id: '../../etc/passwd', owner: 'alice' }, { timeoutMs: 1_000 }));
    expect(err.code).toBe('INVALID_NAME');
    const bad = { owner: 'alice', requestId: 'req_12345678', privileged: true } as unknown as Parameters<typeof request<'containerCreate'>>[2];
    expect((await rejection(request(client, 'containerCreate', bad))).code).toBe('FORBIDDEN_OPTION');

    await client.flush();
    await nc.flush();
    expect(sub.getReceived()).toBe(0);
    sub.unsubscribe();
  });

  it('drainNats waits for a handler still running, and its reply is delivered', async () => {
    const nc = await servingConnection();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => undefined;
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    serve(
      nc,
      'poolList',
      async () => {
        entered();
        await gate;
        return POOLS;
      },
      logger,
    );
    await nc.flush();

    const reply = request(client, 'poolList', {}, { timeoutMs: 5_000 });
    reply.catch(() => undefined); // asserted below; keeps an early failure from also reporting an unhandled rejection
    await inHandler;
    const draining = drainNats(nc);
    // Without waiting for handlers, a drain completes in one round trip (a few ms), well inside this window.
    const early = await Promise.race([draining.then(() => 'drained'), new Promise((r) => setTimeout(r, 300, 'still draining'))]);
    expect(early).toBe('still draining');
    release();
    await expect(reply).resolves.toEqual(POOLS);
    await draining;
    expect(nc.isClosed()).toBe(true);
  });

  it('a reply that is not JSON arrives as INTERNAL', async () => {
    const nc = await servingConnection();
    nc.subscribe('berth.host.status', {
      callback: (_err, msg) => {
        msg.respond('<html>');
      },
    });
    await nc.flush();

    const err = await rejection(request(client, 'hostStatus', {}, { timeoutMs: 2_000 }));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toBe('malformed reply on berth.host.status');
  });

  it('host-addressed requests reach only the host named by the workspace id, or the one asked for', async () => {
    const hosts = await Promise.all(
      ['h1', 'h2'].map(async (hostId) => {
        const nc = await connectNats({ url: nats.url, name: `test-${hostId}`, hostId, logger });
        extra.push(nc);
        const served: string[] = [];
        serve(
          nc,
          'containerKeepalive',
          (req) => {
            served.push(req.id);
            return Promise.resolve({ id: req.id, idleTimeoutSeconds: null, reapAt: null });
          },
          logger,
        );
        serve(nc, 'containerList', () => Promise.resolve({ containers: [], count: 0 }), logger);
        await nc.flush();
        return served;
      }),
    );
    await request(client, 'containerKeepalive', { id: 'ws_h2_0123456789abcdef', owner: 'o' });
    await request(client, 'containerKeepalive', { id: 'ws_h2_0123456789abcdee', owner: 'o' });
    await request(client, 'containerKeepalive', { id: 'ws_h1_0123456789abcdef', owner: 'o' });
    expect(hosts[0]).toEqual(['ws_h1_0123456789abcdef']);
    expect(hosts[1]).toEqual(['ws_h2_0123456789abcdef', 'ws_h2_0123456789abcdee']);
    // an id of a host nobody serves is not answered by another host
    const err = await rejection(request(client, 'containerKeepalive', { id: 'ws_h3_0123456789abcdef', owner: 'o' }, { timeoutMs: 2_000 }));
    expect(err.code).toBe('SERVICE_UNAVAILABLE');
    await request(client, 'containerList', { owner: 'o' }, { hostId: 'h2' });
  });
});

describe('connectNats across a nats-server restart', () => {
  it('reconnects on its own and requests work again', async () => {
    const nats = await startNatsServer();
    const server = await connectNats({ url: nats.url, name: 'restart-server', logger });
    const client = await connectNats({ url: nats.url, name: 'restart-client', logger });
    try {
      serve(server, 'poolList', () => Promise.resolve(POOLS), logger);
      await server.flush();
      await expect(request(client, 'poolList', {}, { timeoutMs: 2_000 })).resolves.toEqual(POOLS);

      const reconnected = (nc: NatsConnection) =>
        (async () => {
          for await (const s of nc.status()) if (s.type === 'reconnect') return;
        })();
      const both = Promise.all([reconnected(server), reconnected(client)]);
      await nats.restart();
      await both;
      await server.flush();

      await expect(request(client, 'poolList', {}, { timeoutMs: 2_000 })).resolves.toEqual(POOLS);
      expect(server.isClosed()).toBe(false);
      expect(client.isClosed()).toBe(false);
    } finally {
      await client.close();
      await server.close();
      await nats.dispose();
    }
  });
});
