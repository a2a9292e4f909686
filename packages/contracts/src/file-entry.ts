import { z } from 'zod';

/** One file or directory of a workspace, as lists and writes report it (files.ts). */
export const FileEntrySchema = z
  .object({
    /** Relative to the listed directory (for a list), or as asked (for a single entry). */
    path: z.string(),
    name: z.string(),
    type: z.enum(['file', 'directory', 'symlink', 'other']),
    size: z.number().int().min(0),
    /** Permission bits, e.g. 420 (0644). */
    mode: z.number().int().min(0).max(0o7777),
    mtime: z.string(),
  })
  .meta({ id: 'FileEntry' });
export type FileEntry = z.infer<typeof FileEntrySchema>;
