import { STREAMS, type StreamControl, type StreamOut } from '@berth/contracts';
import { createLogger, type NatsConnection } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import type { ExecProcess, OutputChunk } from '../src/driver/exec-process.js';
import { pump, textEncoder } from '../src/streams/pump.js';
import { StreamSink } from '@berth/service-kit';

const logger = createLogger('test', 'silent');
const decoder = new TextDecoder();

/** Just enough of a NATS connection: records publishes, lets the test send control messages. */
function fakeNats() {
  const published: StreamOut[] = [];
  let onControl: ((msg: StreamControl) => void) | undefined;
  const nc = {
    publish: (_subject: string, data: Uint8Array) => {
      published.push(JSON.parse(decoder.decode(data)) as StreamOut);
    },
    subscribe: (subject: string, opts: { callback: (err: unknown, msg: { data: Uint8Array }) => void }) => {
      expect(subject).toBe(STREAMS.control.subject('st_000000000000000000000000'));
      onControl = (msg) => opts.callback(null, { data: new TextEncoder().encode(JSON.stringify(msg)) });
      return {
        unsubscribe: () => {
          onControl = undefined;
        },
      };
    },
  } as unknown as NatsConnection;
  return { nc, published, control: (msg: StreamControl) => onControl?.(msg) };
}

/** A process that produces `n` chunks, counting how many the pump pulled; kill() ends it. */
function fakeProcess(n: number) {
  let pulled = 0;
  let killed = false;
  let wake: (() => void) | undefined;
  const proc: ExecProcess = {
    output: (async function* () {
      for (let i = 0; i < n && !killed; i++) {
        pulled += 1;
        yield { stream: 'stdout', data: Buffer.from(`line ${i}\n`) } satisfies OutputChunk;
      }
      while (!killed)
        await new Promise<void>((r) => {
          wake = r;
        });
    })(),
    exitCode: async () => (killed ? 137 : 0),
    truncated: () => ({ stdout: false, stderr: false }),
    write: () => undefined,
    resize: async () => undefined,
    kill: async () => {
      killed = true;
      wake?.();
    },
  };
  return { proc, pulled: () => pulled, killed: () => killed };
}

const tick = () => new Promise((r) => setTimeout(r, 10));
const ID = 'st_000000000000000000000000';

describe('stream pump', () => {
  it('never has more than the window unacknowledged: a slow gateway pauses reading the process', async () => {
    const { nc, published, control } = fakeNats();
    const p = fakeProcess(10);
    const sink = new StreamSink(nc, ID, '_INBOX.x', 3, logger);
    const done = pump(p.proc, sink, textEncoder(), 60_000);
    await tick();
    expect(published.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(p.pulled()).toBe(3);
    control({ type: 'ack', seq: 2 });
    await tick();
    expect(published.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    control({ type: 'cancel' });
    await done;
    expect(p.killed()).toBe(true);
    expect(published.at(-1)).toMatchObject({ type: 'end', cancelled: true, exitCode: 137 });
  });

  it('a gateway that goes silent loses its lease and the process is killed', async () => {
    const { nc, published } = fakeNats();
    const p = fakeProcess(1);
    const sink = new StreamSink(nc, ID, '_INBOX.x', 16, logger, undefined, 50);
    await pump(p.proc, sink, textEncoder(), 60_000);
    expect(p.killed()).toBe(true);
    expect(published.at(-1)).toMatchObject({ type: 'end', cancelled: true });
  });

  it('a timeout kills the process and says so', async () => {
    const { nc, published } = fakeNats();
    const p = fakeProcess(1);
    await pump(p.proc, new StreamSink(nc, ID, '_INBOX.x', 16, logger), textEncoder(), 50);
    expect(published.map((m) => m.type)).toEqual(['out', 'end']);
    expect(published.at(-1)).toMatchObject({ type: 'end', timedOut: true, cancelled: false, exitCode: 137 });
  });

  it('keeps a UTF-8 character split between reads whole', () => {
    const enc = textEncoder();
    const euro = Buffer.from('€');
    expect(enc.write({ stream: 'stdout', data: euro.subarray(0, 1) })).toBeUndefined();
    expect(enc.write({ stream: 'stdout', data: euro.subarray(1) })).toEqual({ type: 'out', stream: 'stdout', text: '€' });
  });
});
