import { z } from 'zod';
import { WatchIdSchema } from './file-watch-event.js';
import { FilePathSchema } from './files.js';
import { WorkspaceIdSchema } from './names.js';
import { StreamIdSchema, StreamOpenShape } from './streams.js';

/*
 * Files watch (w5-files-watch; docs/files.md "Watch"): pool-manager keeps a watch in the
 * workspace's agent and its last events; the gateway streams them as Server-Sent Events. A
 * stream that goes away leaves the watch running for FILES_WATCH_RESUME_MS, so a reconnect with
 * Last-Event-ID (`resume`) gets exactly what it missed.
 */
export const FilesWatchRequestSchema = z.object({
  id: WorkspaceIdSchema,
  owner: z.string().min(1).max(100),
  ...StreamOpenShape,
  path: FilePathSchema,
  recursive: z.boolean().default(false),
  /** From Last-Event-ID: the watch and the last event the caller has. */
  resume: z.object({ watch: WatchIdSchema, seq: z.number().int().min(0) }).optional(),
});
export type FilesWatchRequest = z.infer<typeof FilesWatchRequestSchema>;

export const FilesWatchOpenedSchema = z.object({ streamId: StreamIdSchema, watch: WatchIdSchema });
export type FilesWatchOpened = z.infer<typeof FilesWatchOpenedSchema>;

/** `GET …/files/watch` query. */
export const FilesWatchQuerySchema = z.strictObject({
  path: FilePathSchema,
  recursive: z.enum(['true', 'false']).optional(),
});
