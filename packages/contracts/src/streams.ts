import { z } from 'zod';
import { ErrorBodySchema } from './errors.js';
import { FileEntrySchema } from './file-entry.js';
import { FileWatchEventSchema } from './file-watch-event.js';
import { ExecRequestSchema } from './messages.js';
import { WorkspaceIdSchema } from './names.js';

/*
 * Streaming over core NATS (exec with ?stream=true, terminals). The gateway subscribes an inbox,
 * then asks pool-manager to open a stream that publishes to it. Pool-manager sends sequenced
 * `StreamOut` messages and ends with `end` (or `error`); the gateway sends `StreamControl` messages
 * on `berth.stream.ctl.<streamId>`: `ack` after it has handed a message to its client, `cancel`
 * when the client goes away, `keepalive` while idle, and terminal input and resizes.
 *
 * Flow control: pool-manager never has more than `window` messages unacknowledged; when the window
 * is full it stops reading the process output, so a slow client pauses the command (its pipe
 * fills), nothing is dropped and no side buffers more than `window` messages. A stream whose
 * gateway sends nothing for STREAM_LEASE_MS (crash, partition) is cancelled by pool-manager; the
 * other way, pool-manager sends an unsequenced `keepalive` every STREAM_KEEPALIVE_MS, and a
 * gateway that hears nothing for its lease ends the stream with SERVICE_UNAVAILABLE.
 */

export const STREAM_WINDOW_DEFAULT = 16;
export const STREAM_CHUNK_MAX_BYTES = 32 * 1024;
export const STREAM_KEEPALIVE_MS = 5_000;
export const STREAM_LEASE_MS = 20_000;
/**
 * A streaming exec's HTTP client hears something at least this often while the command is silent
 * (an empty NDJSON line, an SSE comment), so proxies and clients with idle timeouts keep the stream.
 */
export const EXEC_STREAM_KEEPALIVE_MS = 10_000;

export const StreamIdSchema = z.string().regex(/^st_[0-9a-f]{24}$/);
const InboxSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+$/, 'a NATS subject without wildcards');

/** What every stream-opening request carries (the gateway's transport fills it in). */
export const StreamOpenShape = {
  streamId: StreamIdSchema,
  /** Subject the gateway listens on for this stream's `StreamOut` messages. */
  inbox: InboxSchema,
  window: z.number().int().min(1).max(256).default(STREAM_WINDOW_DEFAULT),
};

export const ExecStreamRequestSchema = ExecRequestSchema.extend(StreamOpenShape);
export type ExecStreamRequest = z.infer<typeof ExecStreamRequestSchema>;

export const TerminalSizeShape = {
  cols: z.number().int().min(1).max(1000),
  rows: z.number().int().min(1).max(1000),
};

export const TerminalOpenRequestSchema = z.object({
  id: WorkspaceIdSchema,
  owner: z.string().min(1).max(100),
  ...TerminalSizeShape,
  ...StreamOpenShape,
});
export type TerminalOpenRequest = z.infer<typeof TerminalOpenRequestSchema>;

/** Pool-manager's answer once the process runs; output follows on the inbox. */
export const StreamOpenedSchema = z.object({ streamId: StreamIdSchema });
export type StreamOpened = z.infer<typeof StreamOpenedSchema>;

const seq = z.number().int().min(1);

/** Pool-manager → gateway, on the inbox. `seq` counts from 1 without gaps. */
export const StreamOutSchema = z
  .discriminatedUnion('type', [
    /** Exec output, decoded as UTF-8 (a character split between reads is never cut). */
    z.object({ type: z.literal('out'), seq, stream: z.enum(['stdout', 'stderr']), text: z.string() }),
    /** Terminal output, base64 of raw bytes. */
    z.object({ type: z.literal('pty'), seq, data: z.base64() }),
    /** File content (files.ts), base64 of raw bytes. */
    z.object({ type: z.literal('data'), seq, data: z.base64().max(2 * 1024 * 1024) }),
    /** A file operation done (an upload written and renamed into place, a download complete). */
    z.object({ type: z.literal('done'), seq, entry: FileEntrySchema.optional() }),
    z.object({
      type: z.literal('end'),
      seq,
      exitCode: z.number().int().nullable(),
      timedOut: z.boolean(),
      /** true when the gateway cancelled (client gone) or the lease expired. */
      cancelled: z.boolean(),
      durationMs: z.number(),
    }),
    z.object({ type: z.literal('error'), seq, error: ErrorBodySchema.shape.error }),
    /** A files watch's event (files-watch.ts), with its SSE id `<watch>.<n>`. */
    z.object({ type: z.literal('watch'), seq, id: z.string().max(64), event: FileWatchEventSchema }),
  ])
  .meta({ id: 'StreamOut' });
export type StreamOut = z.infer<typeof StreamOutSchema>;

/** Pool-manager → gateway, on the inbox every STREAM_KEEPALIVE_MS: outside the sequence, never acknowledged. */
export const StreamKeepaliveSchema = z.object({ type: z.literal('keepalive') }).meta({ id: 'StreamKeepalive' });
export type StreamKeepalive = z.infer<typeof StreamKeepaliveSchema>;

/**
 * Pool-manager → gateway, on the inbox, outside the sequence: the upload's `data` control messages
 * up to `seq` are written, so the gateway may have `window` more in flight (cumulative: a lost one
 * is covered by the next).
 */
export const StreamAckSchema = z.object({ type: z.literal('ack'), seq }).meta({ id: 'StreamAck' });
export type StreamAck = z.infer<typeof StreamAckSchema>;

/** Gateway → pool-manager, on `berth.stream.ctl.<streamId>`. */
export const StreamControlSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('ack'), seq }),
    z.object({ type: z.literal('cancel') }),
    z.object({ type: z.literal('keepalive') }),
    z.object({ type: z.literal('input'), data: z.base64().max(96 * 1024) }),
    z.object({ type: z.literal('resize'), ...TerminalSizeShape }),
    /** Upload content (files.ts), numbered from 1 without gaps, at most `window` unacknowledged. */
    z.object({ type: z.literal('data'), seq, data: z.base64().max(2 * 1024 * 1024) }),
    /** The upload's last byte was sent in the `data` message `seq`. */
    z.object({ type: z.literal('eof'), seq: z.number().int().min(0) }),
  ])
  .meta({ id: 'StreamControl' });
export type StreamControl = z.infer<typeof StreamControlSchema>;

export const STREAMS = {
  /** Request subjects that open a stream: the caller's inbox then receives `out` messages. */
  openedBy: ['berth.exec.stream', 'berth.terminal.open', 'berth.files.read', 'berth.files.write', 'berth.files.watch', 'berth.template.build'],
  control: {
    pattern: 'berth.stream.ctl.*',
    subject: (streamId: string) => `berth.stream.ctl.${streamId}`,
    schema: StreamControlSchema,
  },
  /** What arrives on the inbox: sequenced messages and keepalives. */
  out: { schema: z.union([StreamOutSchema, StreamKeepaliveSchema, StreamAckSchema]) },
} as const;

/**
 * File bytes on a stream (w4-files2): a binary NATS message whose sequence number rides in a header
 * (service-kit stream-bytes.ts). Downloads number them in the StreamOut sequence; uploads in the
 * `data` sequence that pool-manager acknowledges with `ack`. The JSON `data` messages above stay
 * understood by both ends.
 */
export interface StreamBytes {
  type: 'bytes';
  seq: number;
  data: Uint8Array;
}
