import { z } from 'zod';
import { FileEntrySchema } from './file-entry.js';

/**
 * One event of a files watch (files-watch.ts, docs/files.md "Watch"). A change names the entry as
 * the caller would (the watched path joined with the entry's place below it) with what was last
 * seen of it; `overflow`, `reset` and `end` say what a caller must do: list again, or stop.
 */
export const FileWatchEventSchema = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.enum(['created', 'modified', 'deleted']),
      path: z.string().max(8192),
      type: FileEntrySchema.shape.type,
      size: z.number().int().min(0),
      mtime: z.string().max(40),
    }),
    /** More changes at once than are sent one by one (`count`): list the directory again. */
    z.object({ kind: z.literal('overflow'), count: z.number().int().min(0) }),
    /**
     * A resume (Last-Event-ID) that cannot replay what was missed: the watch it named is gone
     * (`unknown`), or its events since then are no longer kept (`expired`). Events may be
     * missing: list the directory again. What follows is the watch going on.
     */
    z.object({ kind: z.literal('reset'), reason: z.enum(['unknown', 'expired']) }),
    /** The watch is over: the workspace was deleted or paused, or the watched directory removed. */
    z.object({ kind: z.literal('end'), reason: z.enum(['deleted', 'paused', 'removed', 'stopped']) }),
  ])
  .meta({ id: 'FileWatchEvent' });
export type FileWatchEvent = z.infer<typeof FileWatchEventSchema>;

/** A watch's id: `w_` and 24 hex digits. An event's id is `<watch id>.<seq>`. */
export const WatchIdSchema = z.string().regex(/^w_[0-9a-f]{24}$/);
export const WATCH_EVENT_ID = /^(w_[0-9a-f]{24})\.([0-9]{1,15})$/;
