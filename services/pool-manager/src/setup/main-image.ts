import { MAIN_IMAGE_LABELS, mainImageTag, sameRepo } from '@berth/contracts';
import type { SetupDeps, SetupRun } from './setup-context.js';

/**
 * hasMainImage: when `berth/<owner>-<repo>:main` exists (and is this repo's, by its label), the
 * workspace is recreated from it and the checkout only switches branch. No such image is not an
 * error: the setup clones as usual (status `source: clone`). Returns whether the image is used.
 */
export async function startFromMainImage(d: SetupDeps, run: SetupRun): Promise<boolean> {
  const tag = mainImageTag(run.body.repo);
  if (!tag) return false;
  const labels = await d.driver.imageLabels(tag);
  if (!labels || !sameRepo(labels[MAIN_IMAGE_LABELS.repo], run.body.repo)) return false;
  const view = await d.workspaces.get(run.id, run.owner);
  if (view.volumeName) return false;
  await d.workspaces.recreateFrom(run.id, run.owner, tag);
  d.logger.info({ id: run.id, repo: run.body.repo, image: tag, sha: labels[MAIN_IMAGE_LABELS.sha] }, 'workspace recreated from the main image');
  return true;
}
