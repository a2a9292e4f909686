import { z } from 'zod';
import { SetupPhaseSchema } from './setup.js';
import type { ServiceName } from './subjects.js';

/** `stdout` and `stderr` are the container's own output (Docker's); `setup` is what a setup ran and said (pool-manager's). */
export const LogStreamNameSchema = z.enum(['stdout', 'stderr', 'setup']);
export type LogStreamName = z.infer<typeof LogStreamNameSchema>;
/** The streams log-streamer reads from the container engine. */
export const CONTAINER_OUTPUT_STREAMS = ['stdout', 'stderr'] as const satisfies readonly LogStreamName[];
export type ContainerOutputStream = (typeof CONTAINER_OUTPUT_STREAMS)[number];

/** Docker's RFC3339NanoFixed: always nine fractional digits, so these compare as strings. */
export const DockerTimestampSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/, 'an RFC 3339 UTC time with nine fractional digits');

/**
 * One line (or one piece of a line) of container output, published by log-streamer on
 * `berth.logs.<workspaceId>.<stream>` into the LOGS stream.
 */
export const LogLineSchema = z
  .object({
    /** Docker's timestamp of the output. */
    ts: DockerTimestampSchema,
    /** Index among this stream's pieces with the same `ts`; (ts, n) orders and deduplicates. */
    n: z.number().int().min(0),
    line: z.string(),
    /** No newline ended this piece: the line was longer than the limit (it continues in the next piece), or the output stopped mid-line. */
    cont: z.literal(true).optional(),
    /** Lines of the `setup` stream: the setup phase that printed it. */
    phase: SetupPhaseSchema.optional(),
  })
  .meta({ id: 'LogLine' });
export type LogLine = z.infer<typeof LogLineSchema>;

/** Pieces in one LOGS message at most; below LOG_EVENT_ID_FACTOR, so event ids stay distinct. */
export const LOG_BATCH_MAX_LINES = 8192;
const LOG_EVENT_ID_FACTOR = 10_000;

/**
 * Consecutive pieces of one stream of one container, published by log-streamer as one message on
 * `berth.logs.<workspaceId>.<stream>` into the LOGS stream (bounded by count, bytes and time).
 * A line's position is (message sequence, index in `lines`); see logEventId.
 */
export const LogBatchSchema = z
  .object({
    /** Pieces of this container's stream stored before this message's first one: readers count lines (tail) without reading them. */
    before: z.number().int().min(0),
    lines: z.array(LogLineSchema).min(1).max(LOG_BATCH_MAX_LINES),
  })
  .meta({ id: 'LogBatch' });
export type LogBatch = z.infer<typeof LogBatchSchema>;

/** A message of LOGS: a batch, or one bare line as log-streamer stored them before batches (read as a batch of one). */
export const LogMessageSchema = z.union([LogBatchSchema, LogLineSchema.transform((line): LogBatch => ({ before: 0, lines: [line] }))]);

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;
const isLine = (l: unknown): l is LogLine => {
  const v = l as Partial<LogLine> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.line === 'string' &&
    typeof v.ts === 'string' &&
    TS.test(v.ts) &&
    Number.isInteger(v.n) &&
    (v.n ?? -1) >= 0 &&
    (v.cont === undefined || v.cont === true) &&
    (v.phase === undefined || SetupPhaseSchema.options.includes(v.phase))
  );
};

/**
 * A LOGS message, validated: the same outcome as LogMessageSchema.parse, checked by hand on the hot
 * path (zod costs microseconds per line; a reader handles tens of thousands of lines a second).
 */
export function parseLogMessage(data: unknown): LogBatch {
  const b = data as Partial<LogBatch> | null;
  if (
    typeof b === 'object' &&
    b !== null &&
    Number.isInteger(b.before) &&
    (b.before ?? -1) >= 0 &&
    Array.isArray(b.lines) &&
    b.lines.length >= 1 &&
    b.lines.length <= LOG_BATCH_MAX_LINES &&
    b.lines.every(isLine)
  ) {
    return { before: b.before!, lines: b.lines };
  }
  return LogMessageSchema.parse(data);
}

/**
 * The SSE event id of line `index` of message `seq`: one number that grows line by line, so
 * `Last-Event-ID` points between two lines of a batch (message 7, line 3 → 70003).
 */
export const logEventId = (seq: number, index: number) => seq * LOG_EVENT_ID_FACTOR + index;
export const parseLogEventId = (id: number) => ({ seq: Math.floor(id / LOG_EVENT_ID_FACTOR), index: id % LOG_EVENT_ID_FACTOR });

type Position = Pick<LogLine, 'ts' | 'n'>;

/** Container output, in the JetStream stream LOGS (bounded by age and bytes). */
export const LOGS = {
  stream: 'LOGS',
  subjects: ['berth.logs.>'],
  pattern: 'berth.logs.*.*',
  /** Creates and updates the stream, and is the only publisher (JetStream permissions: jetstream-access.ts). */
  managedBy: 'log-streamer' as ServiceName,
  publishers: ['log-streamer'] as readonly ServiceName[],
  schema: LogBatchSchema,
  subject: (workspaceId: string, stream: LogStreamName) => `berth.logs.${workspaceId}.${stream}`,
  /** Every stream of one container. */
  filter: (workspaceId: string) => `berth.logs.${workspaceId}.*`,
  /** `Nats-Msg-Id`: a batch re-sent after a restart is dropped by the stream's duplicate window. */
  msgId: (workspaceId: string, stream: LogStreamName, first: Position, last: Position) =>
    `${workspaceId}.${stream}.${first.ts}.${first.n}-${last.ts}.${last.n}`,
} as const;

/**
 * The data of one Server-Sent Event of GET /api/containers/:id/logs (unnamed, so `EventSource.onmessage`
 * sees it; `id:` logEventId of the line).
 */
export const LogEventSchema = z
  .object({
    stream: LogStreamNameSchema,
    time: DockerTimestampSchema,
    /** `time` in ms since the epoch (what Artie's clients read). */
    timestamp: z.number().int().nonnegative(),
    line: z.string(),
    /** No newline ended this piece: a long line continues in the next event, or the output stopped mid-line. */
    continued: z.literal(true).optional(),
    /** Only on `stream: "setup"` lines: the setup phase that printed it (see docs/setup.md). */
    phase: SetupPhaseSchema.optional(),
  })
  .meta({ id: 'LogEvent' });
export type LogEvent = z.infer<typeof LogEventSchema>;

export const LOGS_MAX_TAIL = 100_000;

/** Query of GET /api/containers/:id/logs. */
export const LogsQuerySchema = z.strictObject({
  tail: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(0).max(LOGS_MAX_TAIL)).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  follow: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Resume right after this event id, like `Last-Event-ID` (a browser reconnecting with a new ticket cannot set that header). */
  after: z
    .string()
    .regex(/^\d{1,15}$/, 'must be an event id this API sent')
    .transform(Number)
    .optional(),
  /** A single-use ticket standing in for the bearer token (checked before the query is read). */
  ticket: z.string().optional(),
});
export type LogsQuery = z.infer<typeof LogsQuerySchema>;
