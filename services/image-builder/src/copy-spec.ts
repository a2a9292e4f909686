import { BUILD_LABELS } from '@berth/contracts';
import type { ContainerCreateOptions } from 'dockerode';

/** Name of a copy container (BUILD_LABELS too): both must match before it is removed. */
export const buildContainerName = (buildId: string) => `berth-build-${buildId}`;

/** Where the workspace volume is mounted (read-only) in the copy container. */
const SOURCE_DIR = '/src';
/** The copy's exit code when /src is empty: the volume vanished (Docker made a new empty one) or never held a checkout. */
export const EMPTY_SOURCE_EXIT = 3;
/** Fixed script, no caller input: refuse an empty source, empty the image's /workspace, copy the volume in keeping modes and times. */
export const COPY_SCRIPT = `set -e; [ -n "$(ls -A /src)" ] || exit ${EMPTY_SOURCE_EXIT}; find /workspace -mindepth 1 -maxdepth 1 -exec rm -rf {} +; cp -a /src/. /workspace/`;

export interface CopySpec {
  buildId: string;
  hostId: string;
  /** The image the workspace was made from (never a main image: builds do not stack). */
  baseImage: string;
  volume: string;
  memoryMb: number;
}

/**
 * The copy container: the base image with the workspace volume read-only at /src and nothing
 * mounted at /workspace, so the copy lands in the container's own layer, which `docker commit`
 * keeps. Hardened like a workspace (user 1000, no capabilities, no-new-privileges, no network,
 * pids and memory limits) except for the root filesystem: the layer being committed must be writable.
 */
export function copyContainerOptions(spec: CopySpec): ContainerCreateOptions {
  const memory = spec.memoryMb * 1024 * 1024;
  return {
    name: buildContainerName(spec.buildId),
    Image: spec.baseImage,
    User: '1000:1000',
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [COPY_SCRIPT],
    WorkingDir: '/',
    // Plain-text log for the failure message.
    Tty: true,
    Labels: { [BUILD_LABELS.build]: spec.buildId, [BUILD_LABELS.builder]: spec.hostId },
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Privileged: false,
      ReadonlyRootfs: false,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
      Mounts: [{ Type: 'volume', Source: spec.volume, Target: SOURCE_DIR, ReadOnly: true }],
      PidsLimit: 64,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: 1e9,
      RestartPolicy: { Name: 'no' },
      IpcMode: 'private',
      AutoRemove: false,
    },
  };
}
