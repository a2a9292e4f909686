import { z } from 'zod';

/**
 * A Docker host's id (BERTH_HOST_ID): lowercase letters, digits and `-`, no `_` or `.`, so it
 * is one NATS subject token and can be read back out of a workspace id unambiguously.
 */
export const HOST_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;
export const HostIdSchema = z.string().regex(HOST_ID_PATTERN, 'lowercase letters, digits and -').meta({ id: 'HostId', example: 'host-2' });

/** The host of ids that name none (`ws_<16 hex>`, made by single-host installs): BERTH_HOST_ID's default. */
export const DEFAULT_HOST_ID = 'local';

/**
 * berth's own workspace id: `ws_<16 hex>` on the default host, `ws_<hostId>_<16 hex>` elsewhere.
 * The host in the id tells the gateway where to send requests about it, without asking anyone.
 */
export const WorkspaceIdSchema = z
  .string()
  .regex(/^ws_(?:[a-z0-9][a-z0-9-]{0,39}_)?[0-9a-f]{16}$/, 'must look like ws_ followed by 16 hex characters, optionally after a host id and _')
  .meta({ id: 'WorkspaceId', example: 'ws_3f9a0c2b7d1e4a56' });

/**
 * The host that owns a (valid) workspace id. An id without a host (`ws_<hex>`: made by the default
 * host, or by any host before ids named theirs) belongs to `legacyHost`: the asker's own host, so a
 * single-host install keeps reaching its workspaces whatever its BERTH_HOST_ID.
 */
export function hostOfWorkspace(id: string, legacyHost: string = DEFAULT_HOST_ID): string {
  const parts = id.split('_');
  return parts.length === 3 && parts[1] ? parts[1] : legacyHost;
}

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
  .regex(
    /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/,
    'an image reference like berth/workspace:latest',
  )
  .meta({ id: 'ImageRef' });

export const ContainerPortSchema = z.number().int().min(1).max(65535);
