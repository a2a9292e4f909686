import { BerthError, LOGS, LogLineSchema, LogStreamNameSchema, type LogStreamName } from '@berth/contracts';
import type { NatsConnection } from '@berth/service-kit';
import {
  AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager,
  type Consumer, type JetStreamClient, type JetStreamManager, type OrderedConsumerOptions,
} from '@nats-io/jetstream';
import type { LogEntry, LogReadOptions, LogReader, LogStart } from './log-reader.js';
import { tailStartSeq } from './tail.js';

/** Messages pulled per fetch: the most a slow client can leave waiting in the gateway. */
const BATCH = 1024;
/** How long one pull waits for new lines when following, ms. */
const FOLLOW_EXPIRES_MS = 10_000;
const CATCH_UP_EXPIRES_MS = 1_000;

/** Docker's fixed nine-digit form of a time, to compare with stored timestamps as strings. */
const dockerTime = (d: Date) => `${d.toISOString().slice(0, 23)}000000Z`;

/** Reads LOGS with an ordered consumer (ephemeral, in-order, recreated by the client after a gap). */
export class JetStreamLogReader implements LogReader {
  private constructor(private readonly js: JetStreamClient, private readonly jsm: JetStreamManager) {}

  /** No JetStream call at start: the gateway starts (and answers everything else) without LOGS. */
  static async create(nc: NatsConnection): Promise<JetStreamLogReader> {
    return new JetStreamLogReader(jetstream(nc), await jetstreamManager(nc, { checkAPI: false }));
  }

  async read(workspaceId: string, start: LogStart, opts: LogReadOptions): Promise<AsyncIterable<LogEntry>> {
    try {
      const last = await this.lastSeq(workspaceId);
      const end = opts.follow ? undefined : last;
      if (end !== undefined && (end === 0 || (start.kind === 'after' && start.seq >= end) || (start.kind === 'tail' && start.lines === 0))) return empty();
      const consumer = await this.js.consumers.get(LOGS.stream, {
        filter_subjects: LOGS.filter(workspaceId),
        ...(await this.startOptions(workspaceId, start, last)),
      });
      const minTs = start.kind === 'since' ? dockerTime(start.at) : undefined;
      return this.entries(consumer, end, minTs, opts);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
        throw new BerthError('SERVICE_UNAVAILABLE', 'container logs are not available yet', { retryAfterSeconds: 1, cause: err });
      }
      throw err;
    }
  }

  private async *entries(consumer: Consumer, end: number | undefined, minTs: string | undefined, opts: LogReadOptions): AsyncGenerator<LogEntry> {
    try {
      while (!opts.signal.aborted) {
        const batch = await consumer.fetch({ max_messages: BATCH, expires: end === undefined ? FOLLOW_EXPIRES_MS : CATCH_UP_EXPIRES_MS });
        const stop = () => batch.stop();
        opts.signal.addEventListener('abort', stop, { once: true });
        let got = 0;
        try {
          for await (const m of batch) {
            got += 1;
            const line = LogLineSchema.parse(m.json());
            const stream = LogStreamNameSchema.parse(m.subject.slice(m.subject.lastIndexOf('.') + 1)) satisfies LogStreamName;
            if (minTs === undefined || line.ts >= minTs) yield { seq: m.seq, stream, line };
            if (end !== undefined && (m.seq >= end || m.info.pending === 0)) return;
          }
        } finally {
          opts.signal.removeEventListener('abort', stop);
        }
        if (end !== undefined && got === 0) return;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  private async startOptions(workspaceId: string, start: LogStart, last: number): Promise<Partial<OrderedConsumerOptions>> {
    switch (start.kind) {
      case 'all': return { deliver_policy: DeliverPolicy.All };
      case 'after': return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.seq + 1 };
      // Stored after they were written, so lines since `at` are all stored since `at`; earlier ones are filtered.
      case 'since': return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.at.toISOString() };
      case 'tail': {
        const seq = await tailStartSeq(start.lines, last, (s) => this.pendingFrom(workspaceId, s));
        return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: seq };
      }
    }
  }

  /** The container's lines stored at or after `seq`, counted by the server for a throwaway consumer. */
  private async pendingFrom(workspaceId: string, seq: number): Promise<number> {
    const ci = await this.jsm.consumers.add(LOGS.stream, {
      filter_subject: LOGS.filter(workspaceId),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: seq,
      ack_policy: AckPolicy.None,
      mem_storage: true,
      inactive_threshold: 10_000_000_000,
    });
    await this.jsm.consumers.delete(LOGS.stream, ci.name).catch(() => undefined);
    return ci.num_pending;
  }

  /** The stream sequence of the container's last stored line, 0 when there is none. */
  private async lastSeq(workspaceId: string): Promise<number> {
    let last = 0;
    for (const stream of LogStreamNameSchema.options) {
      const msg = await this.jsm.streams.getMessage(LOGS.stream, { last_by_subj: LOGS.subject(workspaceId, stream) });
      if (msg) last = Math.max(last, msg.seq);
    }
    return last;
  }
}

async function* empty(): AsyncGenerator<LogEntry> { /* nothing stored */ }
