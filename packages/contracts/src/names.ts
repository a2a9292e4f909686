import { z } from 'zod';

/** berth's own workspace id: `ws_` + 16 lowercase hex characters. */
export const WorkspaceIdSchema = z
  .string()
  .regex(/^ws_[0-9a-f]{16}$/, 'must look like ws_ followed by 16 hex characters')
  .meta({ id: 'WorkspaceId', example: 'ws_3f9a0c2b7d1e4a56' });

/** Docker-compatible name (Docker wants at least two characters), without path separators or leading dots. */
export const ContainerNameSchema = z
  .string()
  .min(2)
  .max(63)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'letters, digits, _ . - only, starting with a letter or digit')
  .meta({ id: 'ContainerName' });

export const PoolNameSchema = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and - only')
  .meta({ id: 'PoolName' });

/**
 * A named Docker volume (at least two characters, as Docker requires). Anything that looks like a
 * host path is a bind mount and refused.
 */
export const VolumeNameSchema = z
  .string()
  .min(2)
  .max(63)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'a named volume (letters, digits, _ . -); host paths are not allowed')
  .meta({ id: 'VolumeName' });

/** A local image reference such as `berth/workspace:latest`; no digests, no registry hosts with ports. */
export const ImageRefSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/, 'an image reference like berth/workspace:latest')
  .meta({ id: 'ImageRef' });

export const ContainerPortSchema = z.number().int().min(1).max(65535);
