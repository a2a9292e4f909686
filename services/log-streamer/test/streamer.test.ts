import { PassThrough } from 'node:stream';
import { createLogger } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import type { ContainerInfo, ContainerSource, LogsStream } from '../src/container-source.js';
import type { LogRecord } from '../src/line-assembler.js';
import type { LogPublisher, LogStore } from '../src/log-store.js';
import type { Positions } from '../src/positions.js';
import { LogStreamer } from '../src/streamer.js';

class FakeSource implements ContainerSource {
  containers: ContainerInfo[] = [];
  opened: { ref: string; since: string | undefined; stream: PassThrough }[] = [];
  onStart: ((c: ContainerInfo) => void) | undefined;

  async list(): Promise<ContainerInfo[]> {
    return this.containers;
  }
  async watchStarts(_h: string, onStart: (c: ContainerInfo) => void, signal: AbortSignal): Promise<void> {
    this.onStart = onStart;
    await new Promise((r) => signal.addEventListener('abort', r));
  }
  async logs(ref: string, since: string | undefined, follow = true): Promise<LogsStream> {
    // The catch-up read after a follow ends: nothing more is stored here.
    if (!follow) return { stream: new PassThrough().end(), tty: true };
    const stream = new PassThrough();
    this.opened.push({ ref, since, stream });
    return { stream, tty: true };
  }
  async ping(): Promise<boolean> {
    return true;
  }
}

class MemoryStore implements LogStore {
  records = new Map<string, LogRecord[]>();
  async lastPositions(id: string): Promise<Positions> {
    const out: Positions = {};
    for (const r of this.records.get(id) ?? []) out[r.stream] = { ts: r.ts, n: r.n };
    return out;
  }
  publisher(id: string): LogPublisher {
    return {
      publish: async (rs) => {
        this.records.set(id, [...(this.records.get(id) ?? []), ...rs]);
      },
      flush: async () => undefined,
    };
  }
}

const tick = () => new Promise((r) => setTimeout(r, 20));
const line = (sec: number, text: string) => `2026-01-01T00:00:0${sec}.000000000Z ${text}\n`;

describe('LogStreamer', () => {
  const opts = { hostId: 'h', rescanIntervalMs: 60_000, maxLineBytes: 1000, resumeSlackMs: 1000 };

  it('follows listed and started containers once each, and resumes where the store left off', async () => {
    const source = new FakeSource();
    const store = new MemoryStore();
    source.containers = [{ ref: 'r1', workspaceId: 'ws_1', running: true }];
    const s = new LogStreamer(source, store, opts, createLogger('t', 'silent'));
    await s.start();
    await tick();
    source.onStart?.({ ref: 'r1', workspaceId: 'ws_1', running: true });
    expect(source.opened.map((o) => o.ref)).toEqual(['r1']);
    expect(source.opened[0]?.since).toBeUndefined();

    source.opened[0]?.stream.write(line(1, 'a') + line(2, 'b'));
    source.opened[0]?.stream.end();
    await tick();
    expect(store.records.get('ws_1')?.map((r) => r.line)).toEqual(['a', 'b']);
    expect(s.following).toBe(0);

    // It starts again: Docker is asked from a second before the last stored line; lines stored are skipped.
    source.onStart?.({ ref: 'r1', workspaceId: 'ws_1', running: true });
    await tick();
    const again = source.opened[1];
    expect(again?.since).toBe(`${Date.parse('2026-01-01T00:00:01Z') / 1000}.000000000`);
    again?.stream.write(line(1, 'a') + line(2, 'b') + line(3, 'c'));
    await tick();
    expect(store.records.get('ws_1')?.map((r) => r.line)).toEqual(['a', 'b', 'c']);
    await s.stop();
  });

  it('reads a stopped container to the end once, not on every rescan', async () => {
    const source = new FakeSource();
    source.containers = [{ ref: 'r2', workspaceId: 'ws_2', running: false }];
    const s = new LogStreamer(source, new MemoryStore(), opts, createLogger('t', 'silent'));
    await s.start();
    source.opened[0]?.stream.end();
    await tick();
    await s.rescan();
    await tick();
    expect(source.opened).toHaveLength(1);
    await s.stop();
  });
});
