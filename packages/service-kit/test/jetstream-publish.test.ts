import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { commonConfigShape, loadConfig, natsServerList, publishAcked } from '../src/index.js';
import { z } from 'zod';

/** A JetStream client whose first `failures` publishes fail (as during a stream leader's election). */
function flakyJs(failures: number): { js: JetStreamClient; ids: string[] } {
  const ids: string[] = [];
  const js = {
    publish: (_subject: string, _data: Uint8Array, opts: { msgID: string }) => {
      ids.push(opts.msgID);
      return ids.length <= failures ? Promise.reject(new Error('jetstream is not enabled')) : Promise.resolve({ seq: ids.length, duplicate: false });
    },
  } as unknown as JetStreamClient;
  return { js, ids };
}

const open = { isClosed: () => false } as unknown as NatsConnection;

describe('publishAcked', () => {
  it('publishes again, with the same msgID, until the stream acknowledges', async () => {
    const { js, ids } = flakyJs(3);
    await publishAcked(open, js, 'berth.evt.container.x.created', new Uint8Array(), { msgID: 'x.created', retryForMs: 10_000 });
    expect(ids).toEqual(['x.created', 'x.created', 'x.created', 'x.created']);
  });

  it('gives up with the last error after retryForMs', async () => {
    const { js } = flakyJs(Number.MAX_SAFE_INTEGER);
    await expect(publishAcked(open, js, 's', new Uint8Array(), { msgID: 'm', retryForMs: 300 })).rejects.toThrow(/not enabled/);
  });

  it('stops at once when the connection is closed (the service is stopping)', async () => {
    const { js, ids } = flakyJs(Number.MAX_SAFE_INTEGER);
    const closed = { isClosed: () => true } as unknown as NatsConnection;
    await expect(publishAcked(closed, js, 's', new Uint8Array(), { msgID: 'm', retryForMs: 60_000 })).rejects.toThrow();
    expect(ids).toHaveLength(1);
  });
});

describe('cluster settings', () => {
  const schema = z.object(commonConfigShape);
  it('JETSTREAM_REPLICAS is 1 unless set, 1 to 5', () => {
    expect(loadConfig(schema, {}).JETSTREAM_REPLICAS).toBe(1);
    expect(loadConfig(schema, { JETSTREAM_REPLICAS: '3' }).JETSTREAM_REPLICAS).toBe(3);
    expect(() => loadConfig(schema, { JETSTREAM_REPLICAS: '0' })).toThrow(/JETSTREAM_REPLICAS/);
  });

  it('NATS_URL lists every node, blanks and spaces dropped', () => {
    expect(natsServerList('nats://a:4222, nats://b:4222,,nats://c:4222 ')).toEqual(['nats://a:4222', 'nats://b:4222', 'nats://c:4222']);
    expect(() => natsServerList(' , ')).toThrow(/no server/);
  });
});
