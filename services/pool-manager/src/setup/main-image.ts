import { MAIN_IMAGE_LABELS, mainImageTag, sameRepo } from '@berth/contracts';
import type { WorkloadDriver } from '../driver/workload-driver.js';
import type { SetupDeps, SetupRun } from './setup-context.js';

/** The repo's main image on this host (its tag and labels), when it exists and is this repo's by its label. */
export async function findMainImage(driver: Pick<WorkloadDriver, 'imageLabels'>, repo: string): Promise<{ tag: string; labels: Record<string, string> } | undefined> {
  const tag = mainImageTag(repo);
  if (!tag) return undefined;
  const labels = await driver.imageLabels(tag);
  return labels && sameRepo(labels[MAIN_IMAGE_LABELS.repo], repo) ? { tag, labels } : undefined;
}

/**
 * hasMainImage: when `berth/<owner>-<repo>:main` exists (and is this repo's, by its label), the
 * workspace is recreated from it and the checkout only switches branch. No such image is not an
 * error: the setup clones as usual (status `source: clone`). Returns whether the image is used.
 */
export async function startFromMainImage(d: SetupDeps, run: SetupRun): Promise<boolean> {
  const found = await findMainImage(d.driver, run.body.repo);
  if (!found) return false;
  const view = await d.access.get(run.id, run.owner);
  if (view.volumeName) return false;
  await d.lifecycle.recreateFrom(run.id, run.owner, found.tag);
  d.logger.info({ id: run.id, repo: run.body.repo, image: found.tag, sha: found.labels[MAIN_IMAGE_LABELS.sha] }, 'workspace recreated from the main image');
  return true;
}
