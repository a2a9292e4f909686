import { z } from 'zod';
import { ContainerRefRequestSchema } from './messages.js';
import { WorkspaceIdSchema } from './names.js';

/** Shortest idle timeout a caller can set, seconds (shorter would race the reaper's tick). */
export const IDLE_TIMEOUT_MIN_SECONDS = 60;

/**
 * PATCH /api/containers/:id. The workspace is removed once it has been idle this long (no command,
 * open terminal or stream, followed log, or network traffic); setting it also counts as activity.
 * At most the operator's IDLE_TTL_MAX_MS (IDLE_TIMEOUT_TOO_LONG otherwise).
 */
export const UpdateContainerBodySchema = z
  .strictObject({
    idleTimeoutSeconds: z
      .number()
      .int()
      .min(IDLE_TIMEOUT_MIN_SECONDS)
      .max(366 * 24 * 3600)
      .optional(),
    /** What the workspace becomes once idle: removed, or paused (then removed after the paused retention). Default: its pool's. */
    onIdle: z.enum(['pause', 'delete']).optional(),
    /** A command, stream or terminal for the paused workspace resumes it (true, the default) or answers 409 CONTAINER_PAUSED. */
    autoResume: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one of idleTimeoutSeconds, onIdle, autoResume' })
  .meta({ id: 'UpdateContainerBody' });
export type UpdateContainerBody = z.infer<typeof UpdateContainerBodySchema>;

/** `berth.container.keepalive`: counts as activity now; with idleTimeoutSeconds, also sets the timeout. */
export const KeepaliveRequestSchema = ContainerRefRequestSchema.extend({
  idleTimeoutSeconds: z
    .number()
    .int()
    .min(IDLE_TIMEOUT_MIN_SECONDS)
    .max(366 * 24 * 3600)
    .optional(),
  onIdle: z.enum(['pause', 'delete']).optional(),
  autoResume: z.boolean().optional(),
});
export type KeepaliveRequest = z.infer<typeof KeepaliveRequestSchema>;

/** Reply of PATCH /api/containers/:id and POST /api/containers/:id/keepalive. */
export const IdleStateSchema = z
  .object({
    id: WorkspaceIdSchema,
    /** The timeout in force; null when the operator turned idle removal off. */
    idleTimeoutSeconds: z.number().int().nullable(),
    /** When the workspace will be removed if nothing happens until then; null when idle removal is off. */
    reapAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'IdleState' });
export type IdleState = z.infer<typeof IdleStateSchema>;
