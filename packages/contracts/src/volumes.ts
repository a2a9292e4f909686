import { z } from 'zod';
import { NextCursorSchema } from './paging.js';
import { VolumeNameSchema } from './names.js';

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

export const DeleteVolumeReplySchema = z.object({ name: z.string(), removed: z.literal(true) }).meta({ id: 'DeletedVolume' });
export type DeleteVolumeReply = z.infer<typeof DeleteVolumeReplySchema>;

export const VolumeNameParamsSchema = z.strictObject({ name: VolumeNameSchema });
