import { z } from 'zod';

export const EXEC_OUTPUT_CAP_BYTES = 1024 * 1024;
export const EXEC_DEFAULT_TIMEOUT_MS = 30_000;
export const EXEC_MAX_TIMEOUT_MS = 600_000;

/**
 * POST /api/containers/:id/exec. A string runs under `sh -c` inside the workspace (the caller's
 * own sandbox); an array runs as argv with no shell. `timeout` is in milliseconds.
 */
export const ExecBodySchema = z
  .strictObject({
    command: z.union([
      z.string().min(1).max(64 * 1024),
      z.array(z.string().max(64 * 1024)).min(1).max(1024),
    ]),
    timeout: z.number().int().min(1).max(EXEC_MAX_TIMEOUT_MS).optional(),
  })
  .meta({ id: 'ExecBody' });
export type ExecBody = z.infer<typeof ExecBodySchema>;

export const ExecResultSchema = z
  .object({
    exitCode: z.number().int().nullable(),
    stdout: z.string(),
    stderr: z.string(),
    stdoutTruncated: z.boolean(),
    stderrTruncated: z.boolean(),
    /** true when either stream hit the cap. */
    truncated: z.boolean(),
    timedOut: z.boolean(),
    durationMs: z.number(),
  })
  .meta({ id: 'ExecResult' });
export type ExecResult = z.infer<typeof ExecResultSchema>;
