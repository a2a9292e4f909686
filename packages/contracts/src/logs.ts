import { z } from 'zod';
import type { ServiceName } from './subjects.js';

export const LogStreamNameSchema = z.enum(['stdout', 'stderr']);
export type LogStreamName = z.infer<typeof LogStreamNameSchema>;

/** Docker's RFC3339NanoFixed: always nine fractional digits, so these compare as strings. */
export const DockerTimestampSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/, 'an RFC 3339 UTC time with nine fractional digits');

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
  })
  .meta({ id: 'LogLine' });
export type LogLine = z.infer<typeof LogLineSchema>;

/** Container output, in the JetStream stream LOGS (bounded by age and bytes). */
export const LOGS = {
  stream: 'LOGS',
  subjects: ['berth.logs.>'],
  pattern: 'berth.logs.*.*',
  /** Creates and updates the stream, and is the only publisher (JetStream permissions: jetstream-access.ts). */
  managedBy: 'log-streamer' as ServiceName,
  publishers: ['log-streamer'] as readonly ServiceName[],
  schema: LogLineSchema,
  subject: (workspaceId: string, stream: LogStreamName) => `berth.logs.${workspaceId}.${stream}`,
  /** Both streams of one container. */
  filter: (workspaceId: string) => `berth.logs.${workspaceId}.*`,
  /** `Nats-Msg-Id`: a line re-read after a restart is dropped by the stream's duplicate window. */
  msgId: (workspaceId: string, stream: LogStreamName, line: Pick<LogLine, 'ts' | 'n'>) => `${workspaceId}.${stream}.${line.ts}.${line.n}`,
} as const;

/** One Server-Sent Event of GET /api/containers/:id/logs (`event: log`, `id:` the LOGS stream sequence). */
export const LogEventSchema = z
  .object({
    stream: LogStreamNameSchema,
    time: DockerTimestampSchema,
    line: z.string(),
    /** No newline ended this piece: a long line continues in the next event, or the output stopped mid-line. */
    continued: z.literal(true).optional(),
  })
  .meta({ id: 'LogEvent' });
export type LogEvent = z.infer<typeof LogEventSchema>;

export const LOGS_MAX_TAIL = 100_000;

/** Query of GET /api/containers/:id/logs. */
export const LogsQuerySchema = z.strictObject({
  tail: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(0).max(LOGS_MAX_TAIL)).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  follow: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
});
export type LogsQuery = z.infer<typeof LogsQuerySchema>;
