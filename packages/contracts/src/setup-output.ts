import { z } from 'zod';
import { WorkspaceIdSchema } from './names.js';
import { SetupPhaseSchema } from './setup.js';

/*
 * What a setup ran and said (clone, install and start output, phase lines), as the container's
 * `setup` log stream: pool-manager sends it, scrubbed and bounded, to log-streamer, which stores
 * it in LOGS on `berth.logs.<id>.setup` beside the container's stdout and stderr.
 */

/** A setup line is cut at this many bytes (UTF-8), with SETUP_LINE_CUT_MARK at its end. */
export const SETUP_LINE_MAX_BYTES = 4096;
export const SETUP_LINE_CUT_MARK = ' [line cut]';
/** Lines in one `berth.logs.append` request at most. */
export const SETUP_APPEND_MAX_LINES = 500;

export const SetupOutputLineSchema = z.object({
  line: z.string().max(SETUP_LINE_MAX_BYTES),
  phase: SetupPhaseSchema,
});
export type SetupOutputLine = z.infer<typeof SetupOutputLineSchema>;

export const LogAppendRequestSchema = z.object({
  id: WorkspaceIdSchema,
  lines: z.array(SetupOutputLineSchema).min(1).max(SETUP_APPEND_MAX_LINES),
});
export type LogAppendRequest = z.infer<typeof LogAppendRequestSchema>;

/** Sent once LOGS acknowledged the lines. */
export const LogAppendReplySchema = z.object({ stored: z.number().int().min(0) });
export type LogAppendReply = z.infer<typeof LogAppendReplySchema>;
