import { MAIN_IMAGE_LABELS } from '@berth/contracts';
import { findMainImage } from '../pool-image.js';
import type { SetupDeps, SetupRun } from './setup-context.js';

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
