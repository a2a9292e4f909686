import { z } from 'zod';
import { NextCursorSchema } from './paging.js';
import { LlmLimitsSchema } from './llm.js';
import { WorkspaceLimitsShape } from './limits.js';
import { TemplateNameSchema } from './templates.js';
import { ContainerNameSchema, ContainerPortSchema, ImageRefSchema, PoolNameSchema, VolumeNameSchema, WorkspaceIdSchema } from './names.js';
import { RepoNameSchema } from './repo.js';

/**
 * Where a workspace is in its life, as pool-manager's record says:
 * - `creating`: its container is being made (a pool refill or a cold create);
 * - `warm`: started and waiting in its pool for a claim;
 * - `claimed`: an owner's, until deleted or reaped;
 * - `stopping`: being removed; gone from lists once removed;
 * - `failed`: its record is unreadable (no state); reconcile removes it;
 * - `paused`: claimed, its processes frozen and its memory out of the host budget (docs/pause.md).
 */
export const WorkspaceStateSchema = z.enum(['creating', 'warm', 'claimed', 'stopping', 'failed', 'paused']);
export type WorkspaceState = z.infer<typeof WorkspaceStateSchema>;

/** POST /api/containers. Strict: any other field (privileged, binds, capAdd, ...) is refused. */
export const CreateContainerBodySchema = z
  .strictObject({
    name: ContainerNameSchema.optional(),
    image: ImageRefSchema.optional(),
    /** One of the caller's templates (image-builder built it), instead of an image; not both. */
    template: TemplateNameSchema.optional(),
    /** A pool's name, or Artie's boolean: true = a warm claim from the default pool, false = a cold create. */
    pool: z.union([PoolNameSchema, z.boolean()]).optional(),
    ports: z.array(ContainerPortSchema).min(1).max(8).optional(),
    volumeName: VolumeNameSchema.optional(),
    /** Tighter LLM limits for this workspace than egress's defaults. */
    llm: LlmLimitsSchema.optional(),
    /**
     * The repo this workspace will be set up with (a placement hint, nothing is cloned): hosts that
     * hold its mirror, node_modules seed or main image are preferred.
     */
    repo: RepoNameSchema.optional(),
    /** CPUs, memory and a /workspace size other than the pool's, within the caller's maxima (docs/limits.md). */
    ...WorkspaceLimitsShape,
  })
  .meta({ id: 'CreateContainerBody' });
export type CreateContainerBody = z.infer<typeof CreateContainerBodySchema>;

/** containerPort (as a string key) → host port. */
export const PortMapSchema = z.record(z.string().regex(/^\d+$/), z.number().int()).meta({ id: 'PortMap' });

export const ContainerViewSchema = z
  .object({
    id: WorkspaceIdSchema,
    name: z.string(),
    pool: z.string(),
    image: z.string(),
    state: WorkspaceStateSchema,
    hostPort: z.number().int().nullable(),
    ports: PortMapSchema,
    createdAt: z.iso.datetime(),
    claimedAt: z.iso.datetime().nullable(),
    lastActiveAt: z.iso.datetime().nullable(),
    volumeName: z.string().nullable(),
  })
  .meta({ id: 'Container' });
export type ContainerView = z.infer<typeof ContainerViewSchema>;

export const CreateContainerReplySchema = ContainerViewSchema.extend({
  /** true when served from the warm pool, false after a cold create. */
  warm: z.boolean(),
}).meta({ id: 'CreatedContainer' });
export type CreateContainerReply = z.infer<typeof CreateContainerReplySchema>;

export const ContainerListSchema = z
  .object({
    containers: z.array(ContainerViewSchema),
    /** Containers in the whole list, over every page. */
    count: z.number().int(),
    nextCursor: NextCursorSchema.optional(),
  })
  .meta({ id: 'ContainerList' });
export type ContainerList = z.infer<typeof ContainerListSchema>;

export const DeleteContainerReplySchema = z.object({ id: WorkspaceIdSchema, removed: z.literal(true) }).meta({ id: 'DeletedContainer' });
export type DeleteContainerReply = z.infer<typeof DeleteContainerReplySchema>;

export const ContainerIdParamsSchema = z.strictObject({ id: WorkspaceIdSchema });
