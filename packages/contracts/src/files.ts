import { z } from 'zod';
import { FileEntrySchema } from './file-entry.js';
import { WorkspaceIdSchema } from './names.js';
import { StreamIdSchema, StreamOpenShape } from './streams.js';

/*
 * Files in a workspace (docs/files.md). Paths are the workspace's view: absolute, or relative to
 * /workspace; the agent resolves them as the workspace user, so permissions are the kernel's.
 * Bodies move over the stream protocol of streams.ts: downloads as `data` messages, uploads as
 * `data` control messages that pool-manager acknowledges (`ack`), both within the window.
 */

/** Bytes of file content in one stream message (base64 in JSON: under NATS's 1 MiB payload). */
export const FILE_CHUNK_MAX_BYTES = 256 * 1024;
/** Entries one list answers at most (more: `truncated`). */
export const FILES_LIST_MAX_ENTRIES = 5_000;

/** A path as callers give it: no NUL, at most 4096 bytes. Newlines and other bytes are legal names. */
export const FilePathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'a path cannot contain NUL');

export const FileListSchema = z.object({ entries: z.array(FileEntrySchema), truncated: z.boolean() }).meta({ id: 'FileList' });
export type FileList = z.infer<typeof FileListSchema>;

const Ref = { id: WorkspaceIdSchema, owner: z.string().min(1).max(100) };

export const FilesOpRequestSchema = z.discriminatedUnion('op', [
  z.object({ ...Ref, op: z.literal('list'), path: FilePathSchema, depth: z.number().int().min(1).max(32).default(1) }),
  z.object({ ...Ref, op: z.literal('stat'), path: FilePathSchema }),
  z.object({ ...Ref, op: z.literal('remove'), path: FilePathSchema, recursive: z.boolean().default(true) }),
  z.object({ ...Ref, op: z.literal('move'), from: FilePathSchema, to: FilePathSchema }),
  z.object({ ...Ref, op: z.literal('mkdir'), path: FilePathSchema }),
]);
export type FilesOpRequest = z.infer<typeof FilesOpRequestSchema>;

export const FilesOpReplySchema = z.object({
  entries: z.array(FileEntrySchema).optional(),
  truncated: z.boolean().optional(),
  entry: FileEntrySchema.optional(),
});
export type FilesOpReply = z.infer<typeof FilesOpReplySchema>;

/** An HTTP byte range: `start-end`, `start-` (end null) or the last `end` bytes (start null). */
export const ByteRangeSchema = z.object({ start: z.number().int().min(0).nullable(), end: z.number().int().min(0).nullable() });
export type ByteRange = z.infer<typeof ByteRangeSchema>;

export const FilesReadRequestSchema = z.object({
  ...Ref,
  ...StreamOpenShape,
  path: FilePathSchema,
  /** The directory `path` as a tar stream (a file: NOT_A_DIRECTORY). */
  tar: z.boolean().default(false),
  range: ByteRangeSchema.optional(),
});
export type FilesReadRequest = z.infer<typeof FilesReadRequestSchema>;

/** Once the file is open: its size and the range that follows as `data` messages (tar: size null). */
export const FilesReadOpenedSchema = z.object({
  streamId: StreamIdSchema,
  size: z.number().int().min(0).nullable(),
  start: z.number().int().min(0),
  end: z.number().int().min(-1).nullable(),
  mtime: z.string().nullable(),
});
export type FilesReadOpened = z.infer<typeof FilesReadOpenedSchema>;

export const FilesWriteRequestSchema = z.object({
  ...Ref,
  ...StreamOpenShape,
  path: FilePathSchema,
  /** The body is a tar stream unpacked into the directory `path` (made when missing). */
  tar: z.boolean().default(false),
  mode: z.number().int().min(0).max(0o7777).optional(),
  /** The body's length when the caller said it (Content-Length): refused at once past the limit. */
  size: z.number().int().min(0).optional(),
});
export type FilesWriteRequest = z.infer<typeof FilesWriteRequestSchema>;

/** HTTP bodies (strict: an unknown field is UNKNOWN_FIELD). */
export const FilesMoveBodySchema = z.strictObject({ from: FilePathSchema, to: FilePathSchema }).meta({ id: 'FilesMoveBody' });
export const FilesMkdirBodySchema = z.strictObject({ path: FilePathSchema }).meta({ id: 'FilesMkdirBody' });
export const FilesRemovedSchema = z.object({ removed: z.string() }).meta({ id: 'FilesRemoved' });

/** Query of the routes that name one path. `mode` is octal (`644`, `0755`). */
export const FilesQuerySchema = z.strictObject({
  path: FilePathSchema,
  depth: z.coerce.number().int().min(1).max(32).optional(),
  recursive: z.enum(['true', 'false']).optional(),
  mode: z
    .string()
    .regex(/^0?[0-7]{3,4}$/, 'octal permission bits, e.g. 644')
    .optional(),
});
export type FilesQuery = z.infer<typeof FilesQuerySchema>;

/**
 * Bytes of file content in one binary stream message (service-kit stream-bytes.ts; w4-files2):
 * raw, so twice the JSON chunk, still well under NATS's 1 MiB payload with its header.
 */
export const FILE_BYTES_CHUNK_MAX_BYTES = 512 * 1024;
