import { BerthError, LOGS, LogStreamNameSchema, logEventId, parseLogEventId, parseLogMessage, type LogBatch, type LogStreamName } from '@berth/contracts';
import type { NatsConnection } from '@berth/service-kit';
import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type Consumer,
  type JetStreamClient,
  type JetStreamManager,
  type MsgRequest,
  type OrderedConsumerOptions,
} from '@nats-io/jetstream';
import type { LogEntry, LogReadOptions, LogReader, LogStart } from './log-reader.js';
import { tailStartSeq } from './tail.js';

/** Messages (batches of lines) pulled per fetch: with the batch size, the most a slow client leaves waiting in the gateway. */
const BATCH = 16;
/** How long one pull waits for new lines when following, ms. */
const FOLLOW_EXPIRES_MS = 10_000;
const CATCH_UP_EXPIRES_MS = 1_000;

/** Docker's fixed nine-digit form of a time, to compare with stored timestamps as strings. */
const dockerTime = (d: Date) => `${d.toISOString().slice(0, 23)}000000Z`;

/** Where reading begins: consumer options, and what to drop of the first message(s) delivered. */
interface Plan {
  options: Partial<OrderedConsumerOptions>;
  /** Lines of message `seq` up to and including `index` were seen already (a resume mid-batch). */
  after?: { seq: number; index: number };
  /** Lines to drop from the start (a tail that begins inside a batch). */
  skip?: number;
}

/** Reads LOGS with an ordered consumer (ephemeral, in-order, recreated by the client after a gap). */
export class JetStreamLogReader implements LogReader {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  /** No JetStream call at start: the gateway starts (and answers everything else) without LOGS. */
  static async create(nc: NatsConnection): Promise<JetStreamLogReader> {
    return new JetStreamLogReader(jetstream(nc), await jetstreamManager(nc, { checkAPI: false }));
  }

  async read(workspaceId: string, start: LogStart, opts: LogReadOptions): Promise<AsyncIterable<LogEntry>> {
    try {
      const lasts = await this.lastBatches(workspaceId);
      const last = Math.max(0, ...Object.values(lasts).map((l) => l.seq));
      const end = opts.follow ? undefined : last;
      const resumedPast = start.kind === 'after' && parseLogEventId(start.seq).seq > last;
      if (end !== undefined && (end === 0 || resumedPast || (start.kind === 'tail' && start.lines === 0))) return empty();
      const plan = await this.plan(workspaceId, start, last, lasts);
      const consumer = await this.js.consumers.get(LOGS.stream, { filter_subjects: LOGS.filter(workspaceId), ...plan.options });
      const minTs = start.kind === 'since' ? dockerTime(start.at) : undefined;
      return this.entries(consumer, end, minTs, plan, opts);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
        throw new BerthError('SERVICE_UNAVAILABLE', 'container logs are not available yet', { retryAfterSeconds: 1, cause: err });
      }
      throw err;
    }
  }

  private async *entries(consumer: Consumer, end: number | undefined, minTs: string | undefined, plan: Plan, opts: LogReadOptions): AsyncGenerator<LogEntry> {
    let skip = plan.skip ?? 0;
    // A batch stored twice (re-sent around a log-streamer crash) yields its lines once: per stream, (ts, n) only grows.
    const seen: Partial<Record<LogStreamName, { ts: string; n: number }>> = {};
    try {
      while (!opts.signal.aborted) {
        const batch = await consumer.fetch({ max_messages: BATCH, expires: end === undefined ? FOLLOW_EXPIRES_MS : CATCH_UP_EXPIRES_MS });
        const stop = () => batch.stop();
        opts.signal.addEventListener('abort', stop, { once: true });
        let got = 0;
        try {
          for await (const m of batch) {
            got += 1;
            const { lines } = parseLogMessage(m.json());
            const stream = LogStreamNameSchema.parse(m.subject.slice(m.subject.lastIndexOf('.') + 1)) satisfies LogStreamName;
            const from = plan.after?.seq === m.seq ? plan.after.index + 1 : 0;
            for (let index = from; index < lines.length; index++) {
              const line = lines[index]!;
              const prev = seen[stream];
              if (prev && (line.ts < prev.ts || (line.ts === prev.ts && line.n <= prev.n))) continue;
              seen[stream] = { ts: line.ts, n: line.n };
              if (skip > 0) {
                skip -= 1;
                continue;
              }
              if (minTs === undefined || line.ts >= minTs) yield { seq: logEventId(m.seq, index), stream, line };
            }
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

  private async plan(workspaceId: string, start: LogStart, last: number, lasts: Lasts): Promise<Plan> {
    switch (start.kind) {
      case 'all':
        return { options: { deliver_policy: DeliverPolicy.All } };
      case 'after': {
        // The event id names a line inside a batch: deliver that batch again and drop what was seen.
        const at = parseLogEventId(start.seq);
        return { options: { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, at.seq) }, after: at };
      }
      // Stored after they were written, so lines since `at` are all stored since `at`; earlier ones are filtered.
      case 'since':
        return { options: { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.at.toISOString() } };
      case 'tail': {
        const linesFrom = (seq: number) => this.linesFrom(workspaceId, seq, lasts);
        const seq = await tailStartSeq(start.lines, last, linesFrom);
        const skip = Math.max(0, (await linesFrom(seq)) - start.lines);
        return { options: { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: seq }, skip };
      }
    }
  }

  /** The container's lines stored in messages at or after `seq`, from the batches' running counts. */
  private async linesFrom(workspaceId: string, seq: number, lasts: Lasts): Promise<number> {
    let total = 0;
    for (const [stream, lastBatch] of Object.entries(lasts) as [LogStreamName, LastBatch][]) {
      // The first batch of this stream at or after `seq` (a direct "next by subject" lookup).
      const query = { seq, next_by_subj: LOGS.subject(workspaceId, stream) } as unknown as MsgRequest;
      const msg = await this.jsm.streams.getMessage(LOGS.stream, query);
      if (msg) total += lastBatch.end - parseLogMessage(msg.json()).before;
    }
    return total;
  }

  /** Each stream's last stored batch: its sequence and the running count after it. */
  private async lastBatches(workspaceId: string): Promise<Lasts> {
    const lasts: Lasts = {};
    for (const stream of LogStreamNameSchema.options) {
      const msg = await this.jsm.streams.getMessage(LOGS.stream, { last_by_subj: LOGS.subject(workspaceId, stream) });
      if (!msg) continue;
      const b: LogBatch = parseLogMessage(msg.json());
      lasts[stream] = { seq: msg.seq, end: b.before + b.lines.length };
    }
    return lasts;
  }
}

interface LastBatch {
  seq: number;
  end: number;
}
type Lasts = Partial<Record<LogStreamName, LastBatch>>;

async function* empty(): AsyncGenerator<LogEntry> {
  /* nothing stored */
}
