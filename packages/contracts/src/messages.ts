import { z } from 'zod';
import { CreateContainerBodySchema } from './containers.js';
import { EXEC_MAX_TIMEOUT_MS, ExecBodySchema } from './exec.js';
import { VolumeNameSchema, WorkspaceIdSchema } from './names.js';

/** Who is asking; the gateway fills it from the authenticated caller. */
const CallerSchema = z.object({ owner: z.string().min(1).max(100) });

export const CreateContainerRequestSchema = CreateContainerBodySchema.extend({
  /** Idempotency key: a retried request with the same id gets the same container. */
  requestId: z.string().min(8).max(100),
  /**
   * sha256 (hex) of the request's body, sent with a caller's Idempotency-Key: the same key with
   * another body is IDEMPOTENCY_KEY_REUSED, not the first request's container.
   */
  bodyHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
}).extend(CallerSchema.shape);
export type CreateContainerRequest = z.infer<typeof CreateContainerRequestSchema>;

export const ContainerRefRequestSchema = z.object({ id: WorkspaceIdSchema }).extend(CallerSchema.shape);
export type ContainerRefRequest = z.infer<typeof ContainerRefRequestSchema>;

/** berth.container.resume: `auto` resumes only when the workspace allows it (autoResume), else CONTAINER_PAUSED. */
export const ContainerResumeRequestSchema = ContainerRefRequestSchema.extend({ auto: z.boolean().optional() });
export type ContainerResumeRequest = z.infer<typeof ContainerResumeRequestSchema>;

export const ListContainersRequestSchema = CallerSchema;
export type ListContainersRequest = z.infer<typeof ListContainersRequestSchema>;

/** One of the caller's named volumes, by the name the caller gave it. */
export const VolumeRefRequestSchema = z.object({ name: VolumeNameSchema }).extend(CallerSchema.shape);
export type VolumeRefRequest = z.infer<typeof VolumeRefRequestSchema>;

export const ExecRequestSchema = z
  .object({
    id: WorkspaceIdSchema,
    command: ExecBodySchema.shape.command,
    timeoutMs: z.number().int().min(1).max(EXEC_MAX_TIMEOUT_MS),
    env: ExecBodySchema.shape.env,
    cwd: ExecBodySchema.shape.cwd,
  })
  .extend(CallerSchema.shape);
export type ExecRequest = z.infer<typeof ExecRequestSchema>;

export const EmptyRequestSchema = z.object({});

export const HostStatusSchema = z.object({
  hostId: z.string(),
  containers: z.object({
    total: z.number().int(),
    warm: z.number().int(),
    claimed: z.number().int(),
    creating: z.number().int(),
  }),
  capacity: z.object({
    maxContainers: z.number().int(),
    maxMemoryMb: z.number().int(),
    usedMemoryMb: z.number().int(),
  }),
});
export type HostStatus = z.infer<typeof HostStatusSchema>;

/**
 * Only kinds pool-manager publishes (test/event-catalogue.test.ts checks each has a publisher).
 * `idle-warning`: the workspace will be removed as idle at `reapAt` unless something happens before.
 * `paused` / `resumed`: its processes were frozen (reason `api` or `idle`) / thawed (`api` or `auto`).
 * `retention-warning`: a paused workspace will be removed at `reapAt` (its paused retention) unless resumed.
 * `lost`: its Docker host stopped sending heartbeats (told once per loss, by a surviving host's pool-manager).
 * `recovered`: its host came back after a loss and the workspace survived (reason `host-returned`).
 */
export const ContainerEventKindSchema = z.enum([
  'created',
  'claimed',
  'removed',
  'failed',
  'idle-warning',
  'paused',
  'resumed',
  'retention-warning',
  'lost',
  'recovered',
]);
export type ContainerEventKind = z.infer<typeof ContainerEventKindSchema>;

/** Published on `berth.evt.container.<id>.<kind>` into the EVENTS stream. */
export const ContainerEventSchema = z
  .object({
    id: WorkspaceIdSchema,
    kind: ContainerEventKindSchema,
    at: z.iso.datetime(),
    hostId: z.string(),
    pool: z.string(),
    /** The API key's owner. Absent only for a pool's container nobody has claimed (pool fill, or removed unclaimed). */
    owner: z.string().min(1).max(100).optional(),
    reason: z.string().optional(),
    /** idle-warning / retention-warning: when the workspace will be removed if it stays idle / paused. */
    reapAt: z.iso.datetime().optional(),
  })
  .meta({ id: 'ContainerEvent' });
export type ContainerEvent = z.infer<typeof ContainerEventSchema>;
