import { STREAM_KEEPALIVE_MS, STREAM_LEASE_MS, STREAMS, type StreamControl, type StreamOut } from '@berth/contracts';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from './logger.js';
import { publishValidated } from './messages.js';
import { publishBytes, subscribeStream } from './stream-bytes.js';

type Unsequenced<T> = T extends unknown ? Omit<T, 'seq'> : never;
export type StreamOutBody = Unsequenced<StreamOut>;

/**
 * Pool-manager's end of one stream: publishes sequenced messages to the gateway's inbox with at
 * most `window` unacknowledged, and hands the gateway's control messages to `onControl`.
 * `cancelled` resolves on `cancel` or when the gateway has been silent for the lease.
 */
export class StreamSink {
  private seq = 0;
  private acked = 0;
  private room: (() => void) | undefined;
  private readonly sub: Subscription;
  private lease: NodeJS.Timeout;
  /** Tells the gateway this end is alive, so it can end streams whose pool-manager died. */
  private readonly heartbeat: NodeJS.Timeout;
  private cancel!: (reason: string) => void;
  readonly cancelled: Promise<string>;
  closed = false;
  /** An upload's binary `data` (service-kit stream-bytes.ts), in the sequence of `data` control messages. */
  onBytes: (seq: number, data: Uint8Array) => void = () => undefined;

  constructor(
    private readonly nc: NatsConnection,
    readonly streamId: string,
    private readonly inbox: string,
    private readonly window: number,
    private readonly logger: Logger,
    private readonly onControl: (msg: StreamControl) => void = () => undefined,
    private readonly leaseMs = STREAM_LEASE_MS,
  ) {
    this.cancelled = new Promise((resolve) => {
      this.cancel = resolve;
    });
    this.lease = setTimeout(() => this.cancel('lease expired'), leaseMs);
    this.heartbeat = setInterval(() => {
      if (!this.nc.isClosed()) publishValidated(this.nc, this.inbox, STREAMS.out.schema, { type: 'keepalive' }, this.logger);
    }, STREAM_KEEPALIVE_MS);
    this.sub = subscribeStream(
      nc,
      STREAMS.control.subject(streamId),
      STREAMS.control.schema,
      (msg) => this.control(msg),
      (seq, data) => {
        this.lease.refresh();
        this.onBytes(seq, data);
      },
      logger,
    );
  }

  private control(msg: StreamControl): void {
    this.lease.refresh();
    if (msg.type === 'ack') {
      this.acked = Math.max(this.acked, msg.seq);
      if (this.seq - this.acked < this.window) {
        this.room?.();
        this.room = undefined;
      }
    } else if (msg.type === 'cancel') {
      this.cancel('cancelled');
    } else if (msg.type !== 'keepalive') {
      this.onControl(msg);
    }
  }

  /** Publishes one message; resolves once the window has room for the next one (or the stream is cancelled). */
  async send(body: StreamOutBody): Promise<void> {
    if (this.closed) return;
    this.seq += 1;
    publishValidated(this.nc, this.inbox, STREAMS.out.schema, { ...body, seq: this.seq } as StreamOut, this.logger);
    if (this.seq - this.acked < this.window) return;
    await Promise.race([
      new Promise<void>((resolve) => {
        this.room = resolve;
      }),
      this.cancelled,
    ]);
  }

  /** File bytes as one binary message; like `send`, resolves once the window has room. */
  async sendBytes(data: Uint8Array): Promise<void> {
    if (this.closed) return;
    this.seq += 1;
    publishBytes(this.nc, this.inbox, this.seq, data);
    if (this.seq - this.acked < this.window) return;
    await Promise.race([
      new Promise<void>((resolve) => {
        this.room = resolve;
      }),
      this.cancelled,
    ]);
  }

  /** Tells the gateway an upload's `data` messages up to `seq` are written (outside the sequence). */
  ack(seq: number): void {
    if (!this.closed && !this.nc.isClosed()) publishValidated(this.nc, this.inbox, STREAMS.out.schema, { type: 'ack', seq }, this.logger);
  }

  /** The last message: sent regardless of the window. */
  finish(body: StreamOutBody): void {
    if (this.closed) return;
    this.seq += 1;
    publishValidated(this.nc, this.inbox, STREAMS.out.schema, { ...body, seq: this.seq } as StreamOut, this.logger);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lease);
    clearInterval(this.heartbeat);
    this.room?.();
    this.sub.unsubscribe();
  }
}
