import { imageTreeVolumeName, LAYER_LABELS, WORKLOAD_LABELS } from '@berth/contracts';
import type Docker from 'dockerode';
import { engineCall } from './docker-errors.js';
import { isWorkloadError } from './workload-error.js';

/** The volumes holding a layered volume's overlay upper and work directories (one filesystem: Docker's). */
export const layerVolumeNames = (name: string) => ({ upper: `${name}-upper`, work: `${name}-work` });

/** Where the overlay's upper directory gets its owner from: a directory of uid 1000 in the image. */
const OWNER_DIR = '/workspace';

async function mountpoint(docker: Docker, name: string): Promise<string | undefined> {
  try {
    const info = (await engineCall(() => docker.getVolume(name).inspect())) as { Mountpoint?: string };
    return info.Mountpoint;
  } catch (err) {
    if (isWorkloadError(err, 'not_found')) return undefined;
    throw err;
  }
}

/**
 * Makes `name` an overlay volume whose lower layer is the image's tree volume (made once per image by
 * image-builder) and whose upper layer is the workspace's own: nothing is copied, so it is ready in
 * constant time whatever the tree's size. False (nothing made) when the image has no tree.
 *
 * The overlay's root directory takes the upper directory's owner; Docker gives an empty volume the
 * owner of the image directory it is first mounted on, so the upper volume is mounted once on
 * `ownerImage`'s /workspace (uid 1000, empty) by a container that is created and removed, never started.
 * Paths come from the engine (volume mountpoints), none from the caller or the workspace.
 */
export async function createLayeredVolume(docker: Docker, name: string, labels: Record<string, string>, image: string, ownerImage: string): Promise<boolean> {
  const imageId = (await engineCall(() => docker.getImage(image).inspect())).Id;
  const lower = await mountpoint(docker, imageTreeVolumeName(imageId));
  if (!lower) return false;
  const { upper, work } = layerVolumeNames(name);
  // No berth.host: reconcile's orphan sweep never removes a layer apart from its overlay.
  const layerLabels = { [WORKLOAD_LABELS.managed]: 'true', [LAYER_LABELS.of]: name };
  await engineCall(() => docker.createVolume({ Name: upper, Labels: layerLabels }));
  await engineCall(() => docker.createVolume({ Name: work, Labels: layerLabels }));
  const owner = await engineCall(() =>
    docker.createContainer({
      Image: ownerImage,
      Entrypoint: ['true'],
      Cmd: [],
      User: '1000:1000',
      NetworkDisabled: true,
      Labels: { [WORKLOAD_LABELS.task]: 'layer-owner', [WORKLOAD_LABELS.host]: labels[WORKLOAD_LABELS.host] ?? '' },
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: upper, Target: OWNER_DIR, ReadOnly: false }] },
    }),
  );
  await engineCall(() => owner.remove({ force: true }));
  const [upperDir, workDir] = [await mountpoint(docker, upper), await mountpoint(docker, work)];
  if (!upperDir || !workDir) throw new Error(`layer volumes of ${name} vanished while being made`);
  await engineCall(() =>
    docker.createVolume({
      Name: name,
      Driver: 'local',
      Labels: labels,
      DriverOpts: { type: 'overlay', device: 'overlay', o: `lowerdir=${lower},upperdir=${upperDir},workdir=${workDir}` },
    }),
  );
  return true;
}

/** Removes a volume, then the layers of a layered one (after it: an overlay in use is refused first). */
export async function removeVolumeAndLayers(docker: Docker, name: string): Promise<void> {
  const { upper, work } = layerVolumeNames(name);
  for (const v of [name, upper, work]) {
    try {
      await engineCall(() => docker.getVolume(v).remove());
    } catch (err) {
      if (!isWorkloadError(err, 'not_found')) throw err;
    }
  }
}
