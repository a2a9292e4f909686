import type { ReplyOf, StreamControl, StreamOut } from '@berth/contracts';
import type { StreamBackend, StreamHandle, StreamKey, StreamOpenData } from '../src/streams/stream-backend.js';

/** One stream the fake opened: the test plays pool-manager through `emit` and reads what the gateway sent back. */
export class FakeStream implements StreamHandle {
  readonly acks: number[] = [];
  readonly controls: StreamControl[] = [];
  closed = false;
  private listener: ((m: StreamOut) => void) | undefined;
  private readonly queued: StreamOut[] = [];
  private seq = 0;

  constructor(
    readonly key: StreamKey,
    readonly data: unknown,
    /** The host a host-addressed stream (a template build) was opened on. */
    readonly hostId?: string,
  ) {}

  listen(onMessage: (m: StreamOut) => void): void {
    this.listener = onMessage;
    for (const m of this.queued.splice(0)) onMessage(m);
  }

  ack(seq: number): void {
    this.acks.push(seq);
  }
  control(msg: StreamControl): void {
    this.controls.push(msg);
  }
  sendBytes(): void {
    /* no uploads in these tests */
  }
  close(): void {
    this.closed = true;
  }
  onAck(): void {
    /* no uploads in these tests */
  }

  /** Sends a message as pool-manager would, numbering it. */
  emit(body: StreamOut extends infer T ? (T extends unknown ? Omit<T, 'seq'> : never) : never): void {
    this.seq += 1;
    const msg = { ...body, seq: this.seq } as StreamOut;
    if (this.listener) this.listener(msg);
    else this.queued.push(msg);
  }
}

/** A StreamBackend whose streams the test drives; `onOpen` may emit at once or throw (a BerthError). */
export class FakeStreams implements StreamBackend {
  readonly opened: FakeStream[] = [];

  constructor(private readonly onOpen: (s: FakeStream) => void | Promise<void> = () => undefined) {}

  async open<K extends StreamKey>(key: K, data: StreamOpenData<K>, opts?: { hostId?: string | undefined }): Promise<StreamHandle & { opened: ReplyOf<K> }> {
    const s = new FakeStream(key, data, opts?.hostId);
    this.opened.push(s);
    await this.onOpen(s);
    return Object.assign(s, { opened: { streamId: 'st_000000000000000000000000' } as ReplyOf<K> });
  }
}
