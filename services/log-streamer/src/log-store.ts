import { LOGS, LogLineSchema, LogStreamNameSchema, type LogLine } from '@berth/contracts';
import type { NatsConnection } from '@berth/service-kit';
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
  /** Resolves once there is room for another publish; rejects if an earlier one failed. */
  publish(record: LogRecord): Promise<void>;
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
  private constructor(private readonly js: JetStreamClient, private readonly jsm: JetStreamManager, private readonly maxInFlight: number) {}

  static async start(nc: NatsConnection, bounds: LogBounds, maxInFlight: number): Promise<JetStreamLogStore> {
    const jsm = await jetstreamManager(nc);
    await ensureLogsStream(jsm, bounds);
    return new JetStreamLogStore(jetstream(nc), jsm, maxInFlight);
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
    return new WindowedPublisher(this.js, workspaceId, this.maxInFlight);
  }
}

/** Keeps at most `max` publishes awaiting their ack; order is kept because they share one connection. */
class WindowedPublisher implements LogPublisher {
  private readonly inFlight: Promise<void>[] = [];
  private failure: unknown;

  constructor(private readonly js: JetStreamClient, private readonly workspaceId: string, private readonly max: number) {}

  async publish(record: LogRecord): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const line: LogLine = LogLineSchema.parse({ ts: record.ts, n: record.n, line: record.line, ...(record.cont && { cont: true }) });
    const acked = this.js
      .publish(LOGS.subject(this.workspaceId, record.stream), encoder.encode(JSON.stringify(line)), {
        msgID: LOGS.msgId(this.workspaceId, record.stream, line),
        timeout: 30_000,
      })
      .then(() => undefined, (err: unknown) => { this.failure ??= err; });
    this.inFlight.push(acked);
    if (this.inFlight.length >= this.max) await this.inFlight.shift();
    if (this.failure !== undefined) throw this.failure;
  }

  async flush(): Promise<void> {
    await Promise.all(this.inFlight.splice(0));
    if (this.failure !== undefined) throw this.failure;
  }
}
