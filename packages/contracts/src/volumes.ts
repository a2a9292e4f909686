import { z } from 'zod';
import { NextCursorSchema } from './paging.js';
import { VolumeNameSchema } from './names.js';

/**
 * Labels of the volumes berth makes for an owner (named volumes and npm caches). A volume counts as
 * an owner's only when the engine says so after it was created (labels cannot change afterwards).
 * No `berth.host` label: reconcile removes volumes carrying it whose workspace is gone.
 */
export const VOLUME_LABELS = {
  /** `owner` (a caller's named volume) or `npm-cache` (the owner's npm cache). */
  kind: 'berth.volume-kind',
  owner: 'berth.volume-owner',
  /** The name the caller chose (the engine's name is derived from host, owner and this). */
  name: 'berth.volume-name',
  /** BERTH_HOST_ID of the pool-manager that made it. */
  host: 'berth.volume-host',
} as const;

export const VOLUME_KINDS = { owner: 'owner', npmCache: 'npm-cache' } as const;

/**
 * Set (`true`) by docker/images/workspace.Dockerfile; images built from it (main images) inherit it.
 * Only images carrying it, or exact ALLOWED_IMAGES entries, become workspaces.
 */
export const WORKSPACE_IMAGE_LABEL = 'berth.workspace-image';

/** Caller names berth keeps for its own volumes (workspace volumes, caches, seeds). */
export const RESERVED_VOLUME_PREFIX = 'berth-';

export const VolumeViewSchema = z
  .object({
    name: z.string(),
    createdAt: z.iso.datetime().nullable(),
    /** Mounted by a container (a running or stopped workspace): it cannot be deleted now. */
    inUse: z.boolean(),
  })
  .meta({ id: 'Volume' });
export type VolumeView = z.infer<typeof VolumeViewSchema>;

export const VolumeListSchema = z
  .object({
    volumes: z.array(VolumeViewSchema),
    /** Volumes in the whole list, over every page. */
    count: z.number().int(),
    /** Named volumes an owner may keep on this host (MAX_VOLUMES_PER_OWNER). */
    limit: z.number().int(),
    nextCursor: NextCursorSchema.optional(),
  })
  .meta({ id: 'VolumeList' });
export type VolumeList = z.infer<typeof VolumeListSchema>;

export const DeleteVolumeReplySchema = z
  .object({ name: z.string(), removed: z.literal(true) })
  .meta({ id: 'DeletedVolume' });
export type DeleteVolumeReply = z.infer<typeof DeleteVolumeReplySchema>;

export const VolumeNameParamsSchema = z.strictObject({ name: VolumeNameSchema });
