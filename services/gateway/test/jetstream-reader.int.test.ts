import { BerthError, LOGS, type LogStreamName } from '@berth/contracts';
import { connectNats, createLogger, drainNats, type NatsConnection } from '@berth/service-kit';
import { startNatsServer, type ServerProcess } from '@berth/service-kit/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogStart } from '../src/logs/log-reader.js';
import { JetStreamLogReader } from '../src/logs/jetstream-reader.js';

// The reader against a real nats-server: LOGS holds two containers' lines interleaved.
let nats: ServerProcess & { url: string };
let nc: NatsConnection;
const A = 'ws_aaaaaaaaaaaaaaaa';
const B = 'ws_bbbbbbbbbbbbbbbb';
const ts = (i: number) => `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(9, '0')}Z`;

async function publish(id: string, line: string, i: number, stream: LogStreamName = 'stdout'): Promise<number> {
  const ack = await jetstream(nc).publish(LOGS.subject(id, stream), JSON.stringify({ ts: ts(i), n: 0, line }));
  return ack.seq;
}

async function read(id: string, start: LogStart, follow = false, until?: number): Promise<string[]> {
  const abort = new AbortController();
  const out: string[] = [];
  for await (const e of await JetStreamLogReader.create(nc).then((r) => r.read(id, start, { follow, signal: abort.signal }))) {
    out.push(e.line.line);
    if (until !== undefined && out.length >= until) abort.abort();
  }
  return out;
}

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectNats({ url: nats.url, name: 'test', logger: createLogger('test', 'warn') });
});
afterAll(async () => {
  if (nc) await drainNats(nc);
  await nats?.dispose();
});

describe('JetStreamLogReader', () => {
  it('answers SERVICE_UNAVAILABLE while there is no LOGS stream', async () => {
    const err = await read(A, { kind: 'all' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).code).toBe('SERVICE_UNAVAILABLE');
  });

  it('reads one container among others: all, after a sequence, tail, since; ends when caught up', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: LOGS.stream, subjects: [...LOGS.subjects] });
    const seqs: number[] = [];
    for (let i = 1; i <= 40; i++) {
      seqs.push(await publish(A, `a${i}`, i, i % 5 === 0 ? 'stderr' : 'stdout'));
      if (i % 3 === 0) await publish(B, `b${i}`, i);
    }
    const all = Array.from({ length: 40 }, (_, i) => `a${i + 1}`);
    expect(await read(A, { kind: 'all' })).toEqual(all);
    expect(await read(A, { kind: 'after', seq: seqs[29]! })).toEqual(all.slice(30));
    expect(await read(A, { kind: 'after', seq: seqs[39]! })).toEqual([]);
    for (const n of [0, 1, 7, 39, 40, 100]) expect(await read(A, { kind: 'tail', lines: n }), `tail ${n}`).toEqual(all.slice(Math.max(0, 40 - n)));
    expect(await read(A, { kind: 'since', at: new Date(Date.now() + 60_000) })).toEqual([]);
    expect(await read('ws_cccccccccccccccc', { kind: 'all' })).toEqual([]);
  });

  it('follows: lines stored later arrive in order', async () => {
    const following = read(B, { kind: 'tail', lines: 1 }, true, 3);
    await new Promise((r) => setTimeout(r, 100));
    await publish(B, 'late1', 100);
    await publish(A, 'other', 101);
    await publish(B, 'late2', 102);
    expect(await following).toEqual(['b39', 'late1', 'late2']);
  });
});
