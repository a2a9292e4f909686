import { IMAGE_TREE_LABELS, imageTreeVolumeName } from '@berth/contracts';
import { isDockerStatus, type Logger } from '@berth/service-kit';
import type Docker from 'dockerode';

/**
 * Makes the image's tree volume (docs/templates.md): a copy of its /workspace that every workspace
 * of the image layers over instead of copying it. The engine copies an image's directory into an
 * empty volume when a container mounting it is created, so a container is created and removed,
 * never started. Done once per image, after the build; an existing tree is kept as it is.
 */
export async function makeImageTree(docker: Docker, image: string, hostId: string): Promise<string> {
  const { Id: imageId } = await docker.getImage(image).inspect();
  const name = imageTreeVolumeName(imageId);
  try {
    await docker.getVolume(name).inspect();
    return name;
  } catch (err) {
    if (!isDockerStatus(err, 404)) throw err;
  }
  // The engine copies within the create call; a copy that fails leaves no tree behind.
  await docker.createVolume({ Name: name, Labels: { [IMAGE_TREE_LABELS.image]: imageId, [IMAGE_TREE_LABELS.builder]: hostId } });
  try {
    const filler = await docker.createContainer({
      Image: imageId,
      Entrypoint: ['true'],
      Cmd: [],
      User: '1000:1000',
      NetworkDisabled: true,
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: name, Target: '/workspace', ReadOnly: false }] },
    });
    await filler.remove({ force: true });
  } catch (err) {
    await docker
      .getVolume(name)
      .remove()
      .catch(() => undefined);
    throw err;
  }
  return name;
}

/** Removes this builder's trees whose image is gone (a workspace of it pins its image, so none uses them). */
export async function collectImageTrees(docker: Docker, hostId: string, logger: Logger): Promise<number> {
  const { Volumes } = await docker.listVolumes({ filters: { label: [`${IMAGE_TREE_LABELS.builder}=${hostId}`] } });
  let removed = 0;
  for (const v of Volumes ?? []) {
    const imageId = v.Labels?.[IMAGE_TREE_LABELS.image] ?? '';
    const exists = await docker
      .getImage(imageId)
      .inspect()
      .then(
        () => true,
        (err: unknown) => {
          if (isDockerStatus(err, 404)) return false;
          throw err;
        },
      );
    if (exists) continue;
    await docker
      .getVolume(v.Name)
      .remove()
      .then(
        () => {
          removed += 1;
        },
        (err: unknown) => logger.warn({ err, volume: v.Name }, 'image tree not removed'),
      );
  }
  if (removed > 0) logger.info({ removed }, 'collected image trees of removed images');
  return removed;
}
