import { MAIN_IMAGE_LABELS } from '@berth/contracts';
import type { Logger } from '@berth/service-kit';
import type { DockerEngine } from './docker-engine.js';

/** Removes this host's copy containers; called before any build starts, so all were left by a crash or a kill. */
export async function removeStaleCopies(engine: DockerEngine, hostId: string, logger: Logger): Promise<number> {
  const stale = await engine.listBuildContainers(hostId);
  for (const c of stale) {
    await engine.removeContainer(c.ref);
    logger.info({ buildId: c.buildId }, 'removed a copy container left by an interrupted build');
  }
  return stale.length;
}

/**
 * Removes this builder's superseded main images: a new build takes over the `:main` tag, leaving
 * the old image untagged. One still used by a container is kept until a later collection, and so is
 * one in `untagged`: a build's commit waiting for its tree and tag (one a crash left untagged is in
 * no process's set, and is taken).
 */
export async function collectImages(
  engine: DockerEngine,
  hostId: string,
  logger: Logger,
  untagged: ReadonlySet<string> = new Set(),
): Promise<{ removed: number; inUse: number }> {
  const dangling = await engine.listDanglingImages([`${MAIN_IMAGE_LABELS.mainImage}=true`, `${MAIN_IMAGE_LABELS.builder}=${hostId}`]);
  let removed = 0;
  let inUse = 0;
  for (const id of dangling) {
    if (untagged.has(id)) continue;
    const result = await engine.removeImage(id);
    if (result === 'removed') removed += 1;
    if (result === 'in-use') inUse += 1;
  }
  if (removed + inUse > 0) logger.info({ removed, inUse }, 'collected superseded main images');
  return { removed, inUse };
}
