import { BerthError, type CreateContainerRequest, type HostStatus } from '@berth/contracts';
import { connectNats, createLogger, serve, type NatsConnection, type ServiceHandle } from '@berth/service-kit';
import { freePort, startNatsServer, type ServerProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/server.js';
import { TOKEN, containerView } from './helpers.js';

/** The real server: config from env, NATS request/reply to a stand-in pool-manager, graceful stop. */
let nats: ServerProcess & { url: string };
let pm: NatsConnection;
let gateway: ServiceHandle;
let base: string;
const createRequests: CreateContainerRequest[] = [];

const hostStatus: HostStatus = {
  hostId: 'local',
  containers: { total: 3, warm: 2, claimed: 1, creating: 0 },
  capacity: { maxContainers: 10, maxMemoryMb: 1024, usedMemoryMb: 0 },
};

beforeAll(async () => {
  nats = await startNatsServer();
  const logger = createLogger('pool-manager-stand-in', 'silent');
  pm = await connectNats({ url: nats.url, name: 'pm', logger });
  serve(pm, 'hostStatus', async () => hostStatus, logger);
  serve(
    pm,
    'containerGet',
    async () => {
      throw new BerthError('CONTAINER_NOT_FOUND', 'container not found');
    },
    logger,
  );
  serve(
    pm,
    'containerCreate',
    async (req) => {
      createRequests.push(req);
      // The first attempt answers too late; the gateway must retry with the same requestId.
      if (createRequests.length === 1) await new Promise((r) => setTimeout(r, 800));
      return { ...containerView(), warm: true };
    },
    logger,
  );
  await pm.flush();

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  gateway = await startServer({
    NATS_URL: nats.url,
    BERTH_PORT: String(port),
    BERTH_API_TOKEN: TOKEN,
    REQUEST_TIMEOUT_MS: '400',
    LOG_LEVEL: 'silent',
  });
});

afterAll(async () => {
  await gateway?.stop('test done');
  await pm?.drain();
  await nats?.dispose();
});

describe('gateway server over NATS', () => {
  it('reports health from pool-manager', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', containerCount: 3 });
  });

  it('carries error codes across the bus', async () => {
    const res = await fetch(`${base}/api/containers/ws_0123456789abcdef`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'CONTAINER_NOT_FOUND' } });
  });

  it('answers 503 with Retry-After when nobody serves a subject', async () => {
    const res = await fetch(`${base}/api/pools`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('retries a timed-out create once with the same requestId', async () => {
    const res = await fetch(`${base}/api/containers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"name":"agent-1"}',
    });
    expect(res.status).toBe(201);
    expect(createRequests).toHaveLength(2);
    expect(createRequests[1]?.requestId).toBe(createRequests[0]?.requestId);
  });

  it('stops listening on stop', async () => {
    await gateway.stop('test');
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });
});
