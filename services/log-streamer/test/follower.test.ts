import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ContainerSource, LogsStream } from '../src/container-source.js';
import { followContainer } from '../src/follower.js';
import type { LogRecord } from '../src/line-assembler.js';
import type { LogStore } from '../src/log-store.js';

/** One stdout frame of Docker's multiplexed stream. */
function line(sec: number, text: string, newline = true): Buffer {
  const payload = Buffer.from(`2026-01-01T00:00:0${sec}.000000000Z ${text}${newline ? '\n' : ''}`);
  const header = Buffer.alloc(8);
  header[0] = 1;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Docker as it sometimes is: a follow that ends before the stopped container's last output is in it. */
function sourceWith(followed: Buffer, stored: Buffer): ContainerSource & { reads: { since: string | undefined; follow: boolean }[] } {
  const reads: { since: string | undefined; follow: boolean }[] = [];
  return {
    reads,
    list: async () => [],
    watchStarts: async () => undefined,
    ping: async () => true,
    logs: async (_ref, since, follow = true): Promise<LogsStream> => {
      reads.push({ since, follow });
      return { stream: new PassThrough().end(follow ? followed : stored), tty: false };
    },
  };
}

function memoryStore(): LogStore & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  return {
    records,
    lastPositions: async () => ({}),
    publisher: () => ({
      publish: async (rs) => {
        records.push(...rs);
      },
      flush: async () => undefined,
    }),
  } as LogStore & { records: LogRecord[] };
}

describe('followContainer', () => {
  const opts = { maxLineBytes: 1000, resumeSlackMs: 1000 };
  const c = { ref: 'r', workspaceId: 'ws_1', running: false };

  it('reads once more after the follow ends and stores what the follow missed, without repeats', async () => {
    const source = sourceWith(Buffer.concat([line(1, 'a'), line(2, 'b')]), Buffer.concat([line(1, 'a'), line(2, 'b'), line(3, 'last words', false)]));
    const store = memoryStore();
    await followContainer(c, source, store, opts, new AbortController().signal);
    expect(store.records.map((r) => [r.line, r.cont ?? false])).toEqual([
      ['a', false],
      ['b', false],
      ['last words', true],
    ]);
    expect(source.reads.map((r) => r.follow)).toEqual([true, false]);
    // The second read starts from just before the last piece the first one saw.
    expect(source.reads[1]?.since).toBe('1767225601.000000000');
  });

  it('does not read again when stopped by its signal', async () => {
    const source = sourceWith(line(1, 'a'), Buffer.concat([line(1, 'a'), line(2, 'b')]));
    const ac = new AbortController();
    ac.abort();
    await followContainer(c, source, memoryStore(), opts, ac.signal);
    expect(source.reads).toEqual([]);
  });
});
