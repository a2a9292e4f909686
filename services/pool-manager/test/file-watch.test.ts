import { BerthError, type StreamOut } from '@berth/contracts';
import { describe, expect, it } from 'vitest';
import { FileWatch } from '../src/files/file-watch.js';
import type { StreamOutBody, StreamSink } from '@berth/service-kit';

// pool-manager's side of a files watch: numbering, the resume buffer, one stream at a time, the
// resume window, and how it ends. The stream is a small fake of StreamSink (no NATS).
class FakeSink {
  readonly sent: StreamOutBody[] = [];
  closed = false;
  private cancel!: (reason: string) => void;
  readonly cancelled = new Promise<string>((resolve) => {
    this.cancel = resolve;
  });
  send(body: StreamOutBody): Promise<void> {
    if (!this.closed) this.sent.push(body);
    return Promise.resolve();
  }
  finish(body: StreamOutBody): void {
    if (this.closed) return;
    this.sent.push(body);
    this.closed = true;
  }
  close(): void {
    this.closed = true;
  }
  /** The caller went away. */
  goAway(): void {
    this.cancel('cancelled');
  }
  events(): string[] {
    return this.sent.map((m) => {
      if (m.type !== 'watch') return m.type;
      const e = m.event;
      return `${m.id.split('.')[1]} ${e.kind} ${'path' in e ? e.path : 'reason' in e ? e.reason : e.count}`;
    });
  }
}

const tick = () => new Promise((r) => setTimeout(r, 10));
const sink = () => new FakeSink();
const asSink = (s: FakeSink) => s as unknown as StreamSink;
const file = (kind: 'created' | 'modified' | 'deleted', path: string) => ({ kind, path, type: 'file' as const, size: 1, mtime: '2026-01-01T00:00:00.000Z' });

function watch(opts: { resumeMs?: number; bufferEvents?: number } = {}) {
  const state = { closed: 0, gone: 0 };
  const w = new FileWatch(
    { workspace: 'ws', owner: 'o', path: 'w', recursive: false },
    {
      resumeMs: opts.resumeMs ?? 60_000,
      bufferEvents: opts.bufferEvents ?? 100,
      close: () => (state.closed += 1),
      onGone: () => (state.gone += 1),
    },
  );
  return { w, state };
}

describe('FileWatch', () => {
  it('numbers events from 1 and streams them in order, live', async () => {
    const { w } = watch();
    const s = sink();
    w.attach(asSink(s));
    w.add(file('created', 'w/a'));
    w.add(file('modified', 'w/a'));
    await tick();
    w.add(file('deleted', 'w/a'));
    await tick();
    expect(s.events()).toEqual(['1 created w/a', '2 modified w/a', '3 deleted w/a']);
    expect((s.sent[0] as Extract<StreamOut, { type: 'watch' }>).id).toBe(`${w.id}.1`);
  });

  it('a resume replays exactly what came after the id it names, then goes on live', async () => {
    const { w, state } = watch();
    const first = sink();
    w.attach(asSink(first));
    w.add(file('created', 'w/a'));
    await tick();
    first.goAway();
    await tick();
    w.add(file('created', 'w/b'));
    w.add(file('deleted', 'w/a'));
    const again = sink();
    w.attach(asSink(again), 1);
    await tick();
    w.add(file('created', 'w/c'));
    await tick();
    expect(again.events()).toEqual(['2 created w/b', '3 deleted w/a', '4 created w/c']);
    // Nothing was released meanwhile: the agent's watch ran on.
    expect(state.closed).toBe(0);
  });

  it('what is no longer kept is announced with one reset (its id: the last event lost), then what is kept', async () => {
    const { w } = watch({ bufferEvents: 2 });
    for (const p of ['a', 'b', 'c', 'd']) w.add(file('created', `w/${p}`));
    const s = sink();
    w.attach(asSink(s), 0);
    await tick();
    expect(s.events()).toEqual(['2 reset expired', '3 created w/c', '4 created w/d']);
  });

  it('a second stream replaces the first, which ends', async () => {
    const { w } = watch();
    const a = sink();
    w.attach(asSink(a));
    await tick();
    const b = sink();
    w.attach(asSink(b), 0);
    w.add(file('created', 'w/x'));
    await tick();
    expect(a.events()).toEqual(['done']);
    expect(b.events()).toEqual(['1 created w/x']);
  });

  it('a stream gone for the resume window releases the watch in the agent', async () => {
    const { w, state } = watch({ resumeMs: 50 });
    const s = sink();
    w.attach(asSink(s));
    s.goAway();
    await tick();
    expect(state.closed).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(state).toEqual({ closed: 1, gone: 1 });
  });

  it('end: an `end` event, then the stream ends and the agent watch is closed; fail: an error last', async () => {
    const { w, state } = watch();
    const s = sink();
    w.attach(asSink(s));
    w.end('paused');
    await tick();
    expect(s.events()).toEqual(['1 end paused', 'done']);
    expect(state.closed).toBeGreaterThanOrEqual(1);
    expect(state.gone).toBe(1);

    const other = watch();
    const t = sink();
    other.w.attach(asSink(t));
    other.w.fail(new BerthError('WATCH_TOO_LARGE', 'too many'));
    await tick();
    expect(t.sent).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'WATCH_TOO_LARGE' }) as unknown }]);
  });
});
