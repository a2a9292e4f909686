import { MAIN_IMAGE_LABELS, TEMPLATE_LABELS, mainImageTag, sameRepo, type PoolConfig } from '@berth/contracts';
import type { Logger } from '@berth/service-kit';
import type { WorkloadDriver } from './driver/workload-driver.js';

/** The repo's main image on this host (its tag and labels), when it exists and is this repo's by its label. */
export async function findMainImage(
  driver: Pick<WorkloadDriver, 'imageLabels'>,
  repo: string,
): Promise<{ tag: string; labels: Record<string, string> } | undefined> {
  const tag = mainImageTag(repo);
  if (!tag) return undefined;
  const labels = await driver.imageLabels(tag);
  return labels && sameRepo(labels[MAIN_IMAGE_LABELS.repo], repo) ? { tag, labels } : undefined;
}

/**
 * The image a pool's warm containers start from. A repo pool uses the repo's main image when it is
 * on this host, otherwise the pool's own image (a claim then still works; its setup clones). Each
 * change between the two is logged once; existing warm containers are kept as they are.
 */
export class PoolImages {
  private readonly usingMain = new Map<string, boolean>();
  private readonly templateReady = new Map<string, boolean>();

  constructor(
    private readonly driver: Pick<WorkloadDriver, 'imageLabels'>,
    private readonly logger: Logger,
  ) {}

  /** undefined: nothing to fill from yet (an owner's template pool before the template is built on this host). */
  async imageFor(pool: PoolConfig): Promise<string | undefined> {
    if (pool.template) return this.templateImage(pool);
    if (!pool.repo) return pool.image;
    const found = await findMainImage(this.driver, pool.repo).catch((err: unknown) => {
      this.logger.warn({ err, pool: pool.name, repo: pool.repo }, 'main image not inspected; filling from the pool image');
      return undefined;
    });
    if (this.usingMain.get(pool.name) !== !!found) {
      this.usingMain.set(pool.name, !!found);
      if (found) this.logger.info({ pool: pool.name, repo: pool.repo, image: found.tag }, 'repo pool fills from the main image');
      else
        this.logger.warn(
          { pool: pool.name, repo: pool.repo, image: pool.image },
          'repo pool has no main image yet (a setup with buildMainImage makes it); filling from the pool image',
        );
    }
    return found?.tag ?? pool.image;
  }

  /** The pool's template image when it is on this host and its labels name the pool's owner and template. */
  private async templateImage(pool: PoolConfig): Promise<string | undefined> {
    const labels = await this.driver.imageLabels(pool.image).catch(() => undefined);
    const ready = labels?.[TEMPLATE_LABELS.owner] === pool.owner && labels?.[TEMPLATE_LABELS.name] === pool.template;
    if (this.templateReady.get(pool.name) !== ready) {
      this.templateReady.set(pool.name, ready);
      if (!ready) this.logger.warn({ pool: pool.name, template: pool.template }, 'template pool waits for its template to be built on this host');
    }
    return ready ? pool.image : undefined;
  }
}

/**
 * A workspace of a repo pool that still runs the main image it was filled from: a setup of that
 * repo only switches branch. `image` is the workspace's image (its record), `pool` its pool.
 */
export function runsRepoPoolImage(pool: PoolConfig | undefined, image: string, repo: string): boolean {
  return !!pool?.repo && sameRepo(pool.repo, repo) && image === mainImageTag(pool.repo);
}
