import { startNatsServer, type ServerProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectNats, createLogger, drainNats, type NatsConnection } from '../src/index.js';

// A warm claim makes three NATS requests (gateway → pool-manager, the event's JetStream publish, the
// LLM key's registration); with async traces on, each built two Error objects with stacks up front,
// a few per cent of pool-manager's CPU per claim (bench:claim-profile's CPU profile).
let nats: ServerProcess & { url: string };
let nc: NatsConnection;
const logger = createLogger('nats-traces-test', 'silent');

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectNats({ url: nats.url, name: 'traces-test', logger });
});

afterAll(async () => {
  await drainNats(nc);
  await nats.stop();
});

it('connectNats builds no stack per request, and a request with no responder still fails as no responders', async () => {
  expect((nc as unknown as { options: { noAsyncTraces?: boolean } }).options.noAsyncTraces).toBe(true);
  const err = await nc.request('nobody.here', new Uint8Array(0), { timeout: 2_000 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect((err as { isNoResponders?: () => boolean }).isNoResponders?.()).toBe(true);
});
