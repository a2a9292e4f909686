import { z } from 'zod';
import { NextCursorSchema } from './paging.js';
import { ContainerPortSchema, ImageRefSchema, PoolNameSchema } from './names.js';
import { RepoNameSchema } from './repo.js';
import { TemplateNameSchema } from './templates.js';

/**
 * An OCI runtime registered with the Docker engine (its `docker info` Runtimes, e.g. gVisor's
 * `runsc` or Kata's `kata-runtime`). Only the operator's pool config names one; callers cannot.
 */
export const OciRuntimeNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - only');

/** A pool as configured (POOLS env of pool-manager, a JSON array). */
export const PoolConfigSchema = z
  .strictObject({
    name: PoolNameSchema,
    image: ImageRefSchema.optional(),
    /**
     * A repo pool: its warm containers start from the repo's main image (`berth/<owner>-<repo>:main`)
     * when it exists, so a setup of that repo on a claimed one only switches branch.
     */
    repo: RepoNameSchema.optional(),
    targetSize: z.number().int().min(0).max(500).default(3),
    minSize: z.number().int().min(0).max(500).default(1),
    maxCreating: z.number().int().min(1).max(64).default(2),
    containerPorts: z.array(ContainerPortSchema).min(1).max(8).default([3000]),
    cpus: z.number().positive().max(64).default(1),
    memoryMb: z.number().int().min(16).max(262_144).default(512),
    pids: z.number().int().min(16).max(100_000).default(256),
    /** The pool's containers run under this OCI runtime instead of the engine's default (runc). */
    runtime: OciRuntimeNameSchema.optional(),
    /** What an idle claimed workspace of this pool becomes: removed (the default) or paused (PATCH can override per workspace). */
    onIdle: z.enum(['pause', 'delete']).optional(),
    /** A paused workspace of this pool is removed after this long paused (the host's PAUSED_RETENTION_MS otherwise). */
    pausedRetentionSeconds: z
      .number()
      .int()
      .min(60)
      .max(366 * 24 * 3600)
      .optional(),
    // w5-templates-api
    /** A pool of one owner's template: its warm containers start from it, and only that owner can claim them. */
    template: TemplateNameSchema.optional(),
    /** The owner of `template` (an API key's owner); required with it. */
    owner: z.string().min(1).max(100).optional(),
  })
  .refine((p) => (p.template === undefined) === (p.owner === undefined), { message: 'template and owner go together', path: ['owner'] })
  .refine((p) => p.template === undefined || (p.image === undefined && p.repo === undefined), {
    message: "a template pool's image is its template: no image or repo",
    path: ['template'],
  });
export type PoolConfigInput = z.input<typeof PoolConfigSchema>;
export type PoolConfig = z.infer<typeof PoolConfigSchema> & { image: string };

export const PoolViewSchema = z
  .object({
    name: z.string(),
    image: z.string(),
    repo: z.string().optional(),
    /** A template pool: its template and that template's owner (shown to that owner and to admins only). */
    template: TemplateNameSchema.optional(),
    owner: z.string().optional(),
    targetSize: z.number().int(),
    minSize: z.number().int(),
    maxCreating: z.number().int(),
    containerPorts: z.array(z.number().int()),
    cpus: z.number(),
    memoryMb: z.number().int(),
    pids: z.number().int(),
    warm: z.number().int(),
    creating: z.number().int(),
    claimed: z.number().int(),
  })
  .meta({ id: 'Pool' });
export type PoolView = z.infer<typeof PoolViewSchema>;

export const PoolListSchema = z.object({ pools: z.array(PoolViewSchema), nextCursor: NextCursorSchema.optional() }).meta({ id: 'PoolList' });
export type PoolList = z.infer<typeof PoolListSchema>;
