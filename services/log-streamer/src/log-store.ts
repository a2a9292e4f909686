import { LOGS, LogLineSchema, LogStreamNameSchema, type LogLine } from '@berth/contracts';
import type { NatsConnection } from '@berth/service-kit';
import { headers } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { LogRecord } from './line-assembler.js';
import type { Positions } from './positions.js';

/** Where followers put lines and find where they left off. Tests use an in-memory fake. */
export interface LogStore {
  /** The last stored (ts, n) of each stream of a container. */
  lastPositions(workspaceId: string): Promise<Positions>;
  publisher(workspaceId: string): LogPublisher;
}

export interface LogPublisher {
  /** Sends pieces in order; resolves once there is room for more, rejects if an earlier publish failed. */
  publish(records: LogRecord[]): Promise<void>;
  /** Waits for every publish to be acknowledged. */
  flush(): Promise<void>;
}

export interface LogBounds {
  maxAgeSeconds: number;
  maxBytes: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NANOS = 1_000_000_000;
/** Pieces vouched for by one acknowledged publish. */
const GROUP = 256;
const MSG_ID_HEADER = 'Nats-Msg-Id';

/** Creates the LOGS stream, or brings an existing one to the configured bounds. */
export async function ensureLogsStream(jsm: JetStreamManager, bounds: LogBounds): Promise<void> {
  const limits = {
    max_age: bounds.maxAgeSeconds * NANOS,
    max_bytes: bounds.maxBytes,
    duplicate_window: Math.min(120, bounds.maxAgeSeconds) * NANOS,
  };
  try {
    const info = await jsm.streams.info(LOGS.stream);
    await jsm.streams.update(LOGS.stream, { ...info.config, ...limits });
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) throw err;
    await jsm.streams.add({ name: LOGS.stream, subjects: [...LOGS.subjects], ...limits });
  }
}

export class JetStreamLogStore implements LogStore {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly maxInFlight: number,
  ) {}

  static async start(nc: NatsConnection, bounds: LogBounds, maxInFlight: number): Promise<JetStreamLogStore> {
    const jsm = await jetstreamManager(nc);
    await ensureLogsStream(jsm, bounds);
    return new JetStreamLogStore(nc, jetstream(nc), jsm, maxInFlight);
  }

  async lastPositions(workspaceId: string): Promise<Positions> {
    const positions: Positions = {};
    for (const stream of LogStreamNameSchema.options) {
      const msg = await this.jsm.streams.getMessage(LOGS.stream, { last_by_subj: LOGS.subject(workspaceId, stream) });
      if (!msg) continue;
      const line = LogLineSchema.parse(JSON.parse(decoder.decode(msg.data)));
      positions[stream] = { ts: line.ts, n: line.n };
    }
    return positions;
  }

  publisher(workspaceId: string): LogPublisher {
    return new WindowedPublisher(this.nc, this.js, workspaceId, this.maxInFlight);
  }
}

/**
 * Publishes in groups: every piece but the last of a group goes out as a plain NATS publish (the
 * stream stores it, no ack round trip), the last one as a JetStream publish whose ack, coming in
 * order on the same connection, vouches for the group. A group whose ack fails fails the follower,
 * which restarts from what the stream really holds. At most `max` pieces await an ack.
 */
class WindowedPublisher implements LogPublisher {
  private readonly inFlight: { acked: Promise<void>; count: number }[] = [];
  private unacked = 0;
  private failure: unknown;

  constructor(private readonly nc: NatsConnection, private readonly js: JetStreamClient, private readonly workspaceId: string, private readonly max: number) {}

  async publish(records: LogRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += GROUP) {
      const group = records.slice(i, i + GROUP);
      group.forEach((r, j) => { if (j < group.length - 1) this.send(r); });
      const acked = this.send(group[group.length - 1]!, true);
      this.inFlight.push({ acked, count: group.length });
      this.unacked += group.length;
      while (this.unacked > this.max && this.inFlight.length > 1) await this.settleOldest();
      if (this.failure !== undefined) throw this.failure;
    }
  }

  async flush(): Promise<void> {
    while (this.inFlight.length > 0) await this.settleOldest();
    if (this.failure !== undefined) throw this.failure;
  }

  private async settleOldest(): Promise<void> {
    const oldest = this.inFlight.shift();
    if (!oldest) return;
    await oldest.acked;
    this.unacked -= oldest.count;
  }

  private send(record: LogRecord): void;
  private send(record: LogRecord, ack: true): Promise<void>;
  private send(record: LogRecord, ack = false): Promise<void> | void {
    const line: LogLine = LogLineSchema.parse({ ts: record.ts, n: record.n, line: record.line, ...(record.cont && { cont: true }) });
    const subject = LOGS.subject(this.workspaceId, record.stream);
    const data = encoder.encode(JSON.stringify(line));
    const msgID = LOGS.msgId(this.workspaceId, record.stream, line);
    if (!ack) {
      const h = headers();
      h.set(MSG_ID_HEADER, msgID);
      this.nc.publish(subject, data, { headers: h });
      return;
    }
    return this.js.publish(subject, data, { msgID, timeout: 30_000 }).then(() => undefined, (err: unknown) => { this.failure ??= err; });
  }
}
