import { WORKLOAD_LABELS } from '@berth/contracts';
import type { PoolManagerConfig } from '../config.js';
import { workspaceVolumeLabels, workspaceVolumeName, type WorkloadDriver } from '../driver/workload-driver.js';
import { OWNER_VOLUME_TARGET, type VolumeMount } from './volume-names.js';

/**
 * Makes a volume (a new npm cache) owned by the workspace user: Docker gives a new or empty volume
 * the owner of the image directory it is first mounted on, and /workspace belongs to uid 1000.
 * (Mounted first under the /home/berth tmpfs, it would stay root's.) Harmless on a volume in use.
 */
export async function makeWorkspaceOwned(
  driver: WorkloadDriver,
  config: Pick<PoolManagerConfig, 'SETUP_TASK_IMAGE' | 'BERTH_HOST_ID'>,
  name: string,
): Promise<void> {
  const result = await driver.runTask({
    image: config.SETUP_TASK_IMAGE,
    argv: ['test', '-w', '/workspace'],
    labels: { [WORKLOAD_LABELS.task]: 'volume-init', [WORKLOAD_LABELS.host]: config.BERTH_HOST_ID },
    mounts: [{ type: 'volume', source: name, target: '/workspace', readOnly: false }],
    timeoutMs: 30_000,
    maxOutputBytes: 1024,
  });
  if (result.exitCode !== 0) throw new Error(`volume ${name} is not writable by the workspace user`);
}

/**
 * Makes a workspace's volume before its container, when Docker's copy-up cannot give it the
 * workspace user: an image without a /workspace of uid 1000 (`node:24-slim`) would leave it root's.
 * With an owner's node_modules cache, also makes the checkout's node_modules directory (else the
 * engine makes that mount point as root) and gives a new cache volume the workspace user, by
 * mounting it on the task image's /home/berth/.npm (uid 1000) once.
 */
export async function prepareWorkspaceVolume(
  driver: WorkloadDriver,
  config: Pick<PoolManagerConfig, 'SETUP_TASK_IMAGE' | 'BERTH_HOST_ID'>,
  id: string,
  ownerVolume: VolumeMount | undefined,
): Promise<void> {
  const name = workspaceVolumeName(id);
  await driver.ensureVolume(name, workspaceVolumeLabels(config.BERTH_HOST_ID, id));
  const result = await driver.runTask({
    image: config.SETUP_TASK_IMAGE,
    argv: ownerVolume ? ['sh', '-c', `mkdir -p ${OWNER_VOLUME_TARGET} && test -w /home/berth/.npm`] : ['test', '-w', '/workspace'],
    labels: { [WORKLOAD_LABELS.task]: 'volume-init', [WORKLOAD_LABELS.host]: config.BERTH_HOST_ID, [WORKLOAD_LABELS.id]: id },
    mounts: [
      { type: 'volume', source: name, target: '/workspace', readOnly: false },
      ...(ownerVolume ? [{ type: 'volume' as const, source: ownerVolume.source, target: '/home/berth/.npm', readOnly: false }] : []),
    ],
    timeoutMs: 30_000,
    maxOutputBytes: 1024,
  });
  if (result.exitCode !== 0) throw new Error(`workspace volume ${name} could not be prepared: ${result.output.slice(-200)}`);
}
