import { BerthError, LOGS, logEventId, parseLogEventId, type LogStreamName } from '@berth/contracts';
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

/** Pieces stored so far per container stream: each batch's `before`, as log-streamer keeps it. */
const counts = new Map<string, number>();

/** Stores lines `i, i+1, ...` of one stream as one batch (one message), as log-streamer does; returns the event id of its first line. */
async function publishBatch(id: string, lines: string[], i: number, stream: LogStreamName = 'stdout'): Promise<number> {
  const key = `${id}.${stream}`;
  const before = counts.get(key) ?? 0;
  counts.set(key, before + lines.length);
  const batch = { before, lines: lines.map((line, k) => ({ ts: ts(i + k), n: 0, line })) };
  const ack = await jetstream(nc).publish(LOGS.subject(id, stream), JSON.stringify(batch));
  return logEventId(ack.seq, 0);
}

const publish = (id: string, line: string, i: number, stream: LogStreamName = 'stdout') => publishBatch(id, [line], i, stream);

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

  it('batches: a resume mid-batch yields exactly the lines after it; tail and ids count lines, not messages', async () => {
    const C = 'ws_cccccccccccccccc';
    const lines = Array.from({ length: 25 }, (_, i) => `c${i + 1}`);
    await publishBatch(C, lines.slice(0, 10), 200);
    await publish(A, 'between', 300);
    await publishBatch(C, lines.slice(10, 12), 210, 'stderr');
    await publishBatch(C, lines.slice(12), 212);

    const abort = new AbortController();
    const entries = [];
    for await (const e of await JetStreamLogReader.create(nc).then((r) => r.read(C, { kind: 'all' }, { follow: false, signal: abort.signal }))) entries.push(e);
    expect(entries.map((e) => e.line.line)).toEqual(lines);
    // Every line has its own event id, growing line by line, naming its message and index.
    const ids = entries.map((e) => e.seq);
    expect(ids.every((v, i) => i === 0 || v > ids[i - 1]!)).toBe(true);
    expect(parseLogEventId(ids[3]!)).toEqual({ seq: parseLogEventId(ids[0]!).seq, index: 3 });

    // Resuming after any line, mid-batch or at a batch's end, gives exactly the rest.
    for (const k of [0, 3, 9, 10, 11, 17, 24]) {
      expect(await read(C, { kind: 'after', seq: ids[k]! }), `after line ${k + 1}`).toEqual(lines.slice(k + 1));
    }
    for (const n of [1, 5, 13, 14, 15, 24, 25, 30]) expect(await read(C, { kind: 'tail', lines: n }), `tail ${n}`).toEqual(lines.slice(Math.max(0, 25 - n)));
  });
});
