import { CONTAINER_OUTPUT_STREAMS, LOG_BATCH_MAX_LINES, LOGS, parseLogMessage, type LogBatch, type LogLine, type LogStreamName } from '@berth/contracts';
import { ensureStream, type NatsConnection } from '@berth/service-kit';
import { headers } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { LogRecord } from './line-assembler.js';
import type { Positions } from './positions.js';

/** Where followers put lines and find where they left off. Tests use an in-memory fake. */
export interface LogStore {
  /** The last stored (ts, n) of each stream of a container's own output (the `setup` stream is not read from Docker). */
  lastPositions(workspaceId: string): Promise<Positions>;
  /** `resume`: where the store stood when reading began (its counts number the next batches). */
  publisher(workspaceId: string, resume?: Positions): LogPublisher;
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
  /** The stream's replicas (JETSTREAM_REPLICAS): 3 on a three-node cluster. */
  replicas?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NANOS = 1_000_000_000;
/** A batch (one message) holds at most about this many bytes of pieces, and this many pieces. */
const BATCH_BYTES = 64 * 1024;
const BATCH_LINES = LOG_BATCH_MAX_LINES;
const MSG_ID_HEADER = 'Nats-Msg-Id';

/** Creates the LOGS stream, or brings an existing one to the configured bounds and replicas. */
export async function ensureLogsStream(jsm: JetStreamManager, bounds: LogBounds): Promise<void> {
  const limits = {
    max_age: bounds.maxAgeSeconds * NANOS,
    max_bytes: bounds.maxBytes,
    duplicate_window: Math.min(120, bounds.maxAgeSeconds) * NANOS,
    num_replicas: bounds.replicas ?? 1,
  };
  await ensureStream(jsm, { name: LOGS.stream, subjects: [...LOGS.subjects] }, limits);
}

/**
 * Counts the connection's losses. What was written to a NATS node that died is gone while later
 * publishes reach another node after the reconnect, so a publisher that saw a loss must stop and
 * its follower restart from what the stream really holds, or the stream would have a gap.
 */
class ConnectionLosses {
  count = 0;

  constructor(nc: NatsConnection) {
    void (async () => {
      for await (const status of nc.status()) if (status.type === 'disconnect') this.count += 1;
    })();
  }
}

export class JetStreamLogStore implements LogStore {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly maxInFlight: number,
    private readonly losses: ConnectionLosses,
  ) {}

  static async start(nc: NatsConnection, bounds: LogBounds, maxInFlight: number): Promise<JetStreamLogStore> {
    const jsm = await jetstreamManager(nc);
    await ensureLogsStream(jsm, bounds);
    return new JetStreamLogStore(nc, jetstream(nc), jsm, maxInFlight, new ConnectionLosses(nc));
  }

  async lastPositions(workspaceId: string): Promise<Positions> {
    const positions: Positions = {};
    for (const stream of CONTAINER_OUTPUT_STREAMS) {
      const msg = await this.jsm.streams.getMessage(LOGS.stream, { last_by_subj: LOGS.subject(workspaceId, stream) });
      if (!msg) continue;
      const batch = parseLogMessage(JSON.parse(decoder.decode(msg.data)));
      const last = batch.lines[batch.lines.length - 1]!;
      positions[stream] = { ts: last.ts, n: last.n, count: batch.before + batch.lines.length };
    }
    return positions;
  }

  publisher(workspaceId: string, resume: Positions = {}): LogPublisher {
    return new BatchPublisher(this.nc, this.js, workspaceId, this.maxInFlight, resume, this.losses);
  }
}

interface Batch {
  stream: LogStreamName;
  lines: LogLine[];
}

/** Consecutive pieces of the same stream, cut at BATCH_BYTES (about) or BATCH_LINES. */
function toBatches(records: LogRecord[]): Batch[] {
  const out: Batch[] = [];
  let current: Batch | undefined;
  let bytes = 0;
  for (const r of records) {
    const size = r.line.length + 48;
    if (!current || current.stream !== r.stream || bytes + size > BATCH_BYTES || current.lines.length >= BATCH_LINES) {
      current = { stream: r.stream, lines: [] };
      out.push(current);
      bytes = 0;
    }
    current.lines.push({ ts: r.ts, n: r.n, line: r.line, ...(r.cont && { cont: true as const }) });
    bytes += size;
  }
  return out;
}

/**
 * Publishes pieces in batches (one message per batch): every batch but the last of a call goes
 * out as a plain NATS publish (the stream stores it, no ack round trip), the last one as a
 * JetStream publish whose ack, coming in order on the same connection, vouches for the call. A
 * failed ack fails the follower, which restarts from what the stream really holds. At most `max`
 * pieces await an ack (beyond one call's worth).
 */
class BatchPublisher implements LogPublisher {
  private readonly inFlight: { acked: Promise<void>; count: number }[] = [];
  private unacked = 0;
  private failure: unknown;
  private readonly counts: Partial<Record<LogStreamName, number>>;
  private readonly lossesAtStart: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly workspaceId: string,
    private readonly max: number,
    resume: Positions,
    private readonly losses: ConnectionLosses,
  ) {
    this.counts = { stdout: resume.stdout?.count ?? 0, stderr: resume.stderr?.count ?? 0 };
    this.lossesAtStart = losses.count;
  }

  /** Fails before sending anything after a failed ack or a lost connection: nothing is stored after a gap. */
  private checkHealthy(): void {
    if (this.losses.count !== this.lossesAtStart) this.failure ??= new Error('NATS connection lost while publishing; resuming from the stream');
    if (this.failure !== undefined) throw this.failure;
  }

  async publish(records: LogRecord[]): Promise<void> {
    this.checkHealthy();
    const batches = toBatches(records);
    if (batches.length === 0) return;
    batches.forEach((b, i) => {
      if (i < batches.length - 1) this.send(b);
    });
    const acked = this.send(batches[batches.length - 1]!, true);
    this.inFlight.push({ acked, count: records.length });
    this.unacked += records.length;
    while (this.unacked > this.max && this.inFlight.length > 1) await this.settleOldest();
    if (this.failure !== undefined) throw this.failure;
  }

  async flush(): Promise<void> {
    this.checkHealthy();
    while (this.inFlight.length > 0) {
      await this.settleOldest();
      this.checkHealthy();
    }
  }

  private async settleOldest(): Promise<void> {
    const oldest = this.inFlight.shift();
    if (!oldest) return;
    await oldest.acked;
    this.unacked -= oldest.count;
  }

  private send(batch: Batch): void;
  private send(batch: Batch, ack: true): Promise<void>;
  private send(batch: Batch, ack = false): Promise<void> | void {
    const before = this.counts[batch.stream] ?? 0;
    const body: LogBatch = { before, lines: batch.lines };
    this.counts[batch.stream] = before + batch.lines.length;
    const subject = LOGS.subject(this.workspaceId, batch.stream);
    const data = encoder.encode(JSON.stringify(body));
    const msgID = LOGS.msgId(this.workspaceId, batch.stream, batch.lines[0]!, batch.lines[batch.lines.length - 1]!);
    if (!ack) {
      const h = headers();
      h.set(MSG_ID_HEADER, msgID);
      this.nc.publish(subject, data, { headers: h });
      return;
    }
    return this.js.publish(subject, data, { msgID, timeout: 30_000 }).then(
      () => undefined,
      (err: unknown) => {
        this.failure ??= err;
      },
    );
  }
}
