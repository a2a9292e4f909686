import type { PoolManagerConfig } from '../config.js';
import { workspaceVolumeLabels, workspaceVolumeName, type WorkloadDriver } from '../driver/workload-driver.js';

/**
 * A workspace of an image with a tree (a main image or a template: image-builder made one) gets its
 * /workspace as a copy-on-write layer over that tree instead of the engine's copy of it, so it is
 * ready in constant time whatever the tree's size (docs/templates.md). False when the image has no
 * tree: the engine fills the workspace's volume from the image, as before.
 */
export function layerWorkspaceVolume(
  driver: WorkloadDriver,
  config: Pick<PoolManagerConfig, 'SETUP_TASK_IMAGE' | 'BERTH_HOST_ID'>,
  id: string,
  image: string,
): Promise<boolean> {
  return driver.createLayeredVolume(workspaceVolumeName(id), workspaceVolumeLabels(config.BERTH_HOST_ID, id), image, config.SETUP_TASK_IMAGE);
}
