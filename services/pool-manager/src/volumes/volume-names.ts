import { createHash } from 'node:crypto';
import { VOLUME_KINDS, VOLUME_LABELS, WORKLOAD_LABELS } from '@berth/contracts';

/** Where setup checks a repository out (also `/app/repo`: the workspace volume is mounted at both). */
const CHECKOUT_DIR = '/workspace/repo';
/**
 * Where a caller's named volume is mounted in its workspace: Artie's `volumeName`, a node_modules
 * cache kept across the owner's workspaces, at the checkout's node_modules.
 */
export const OWNER_VOLUME_TARGET = `${CHECKOUT_DIR}/node_modules`;
/** Where the owner's npm cache is mounted (npm's default cache under HOME=/home/berth). */
export const NPM_CACHE_TARGET = '/home/berth/.npm';

/** A volume to mount, with the labels Docker gives it should it have to create it at mount time. */
export interface VolumeMount {
  source: string;
  target: string;
  labels: Record<string, string>;
}

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);

/**
 * The engine's name of an owner's named volume: derived from host, owner and the caller's name, so
 * two owners choosing one name never share a volume, and no caller name reaches a volume directly.
 */
export const ownerVolumeName = (hostId: string, owner: string, name: string) => `berth-vol-${digest(hostId, owner, name)}`;

/** The engine's name of an owner's npm cache: NPM_CACHE_VOLUME is the prefix. */
export const npmCacheVolumeName = (prefix: string, hostId: string, owner: string) => `${prefix}-${digest(hostId, owner)}`;

export function ownerVolumeLabels(hostId: string, owner: string, kind: keyof typeof VOLUME_KINDS, name = ''): Record<string, string> {
  return {
    [WORKLOAD_LABELS.managed]: 'true',
    [VOLUME_LABELS.kind]: VOLUME_KINDS[kind],
    [VOLUME_LABELS.owner]: owner,
    [VOLUME_LABELS.host]: hostId,
    ...(name && { [VOLUME_LABELS.name]: name }),
  };
}

/** True when a volume's labels (as the engine reports them) are exactly what berth gave it. */
export const labelsMatch = (actual: Record<string, string> | undefined, wanted: Record<string, string>) =>
  actual !== undefined && Object.entries(wanted).every(([k, v]) => actual[k] === v);
