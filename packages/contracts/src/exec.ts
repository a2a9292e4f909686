import { z } from 'zod';

export const EXEC_OUTPUT_CAP_BYTES = 1024 * 1024;
export const EXEC_DEFAULT_TIMEOUT_MS = 30_000;
export const EXEC_MAX_TIMEOUT_MS = 600_000;
export const EXEC_ENV_MAX_VARS = 64;
export const EXEC_ENV_MAX_BYTES = 32 * 1024;

/** Extra environment for one command: POSIX-style names, bounded count and total size. */
export const ExecEnvSchema = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _ only, not starting with a digit')
      .max(128),
    z
      .string()
      .max(EXEC_ENV_MAX_BYTES)
      .refine((v) => !v.includes('\0'), 'must not contain NUL'),
  )
  .refine((env) => Object.keys(env).length <= EXEC_ENV_MAX_VARS, `at most ${EXEC_ENV_MAX_VARS} variables`)
  .refine(
    (env) => Object.entries(env).reduce((n, [k, v]) => n + k.length + v.length + 2, 0) <= EXEC_ENV_MAX_BYTES,
    `at most ${EXEC_ENV_MAX_BYTES} bytes in all`,
  );

const noNul = (v: string) => !v.includes('\0');

/** Working directory of one command: absolute, no NUL. */
export const ExecCwdSchema = z
  .string()
  .min(1)
  .max(4096)
  .startsWith('/', 'must be an absolute path')
  .refine((v) => !v.includes('\0'), 'must not contain NUL');

/**
 * POST /api/containers/:id/exec. A string runs under `sh -c` inside the workspace (the caller's
 * own sandbox); an array runs as argv with no shell. `timeout` is in milliseconds; when it runs out
 * the command and every process it started are killed.
 */
export const ExecBodySchema = z
  .strictObject({
    // No NUL anywhere: the kernel's argv is NUL-terminated, so a NUL would cut an argument short
    // (or the spawn fails and the caller got `exitCode: null`).
    command: z.union([
      z
        .string()
        .min(1)
        .max(64 * 1024)
        .refine(noNul, 'must not contain NUL'),
      z
        .array(
          z
            .string()
            .max(64 * 1024)
            .refine(noNul, 'an argument must not contain NUL'),
        )
        .min(1)
        .max(1024),
    ]),
    timeout: z.number().int().min(1).max(EXEC_MAX_TIMEOUT_MS).optional(),
    env: ExecEnvSchema.optional(),
    /** Defaults to /workspace. */
    cwd: ExecCwdSchema.optional(),
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

/**
 * One line of a streaming exec (`?stream=true`): NDJSON lines, or SSE events named by `type`.
 * Output comes as it happens; the last line is `exit` (or `error`).
 */
export const ExecStreamEventSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.enum(['stdout', 'stderr']), data: z.string() }),
    z.object({ type: z.literal('exit'), exitCode: z.number().int().nullable(), timedOut: z.boolean(), durationMs: z.number() }),
    z.object({ type: z.literal('error'), error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }) }),
  ])
  .meta({ id: 'ExecStreamEvent' });
export type ExecStreamEvent = z.infer<typeof ExecStreamEventSchema>;
