import { BerthError, MAIN_IMAGE_LABELS, TEMPLATE_LABELS, WORKSPACE_IMAGE_LABEL } from '@berth/contracts';
import type { WorkloadDriver } from './driver/workload-driver.js';

/** Images named in berth's namespace: a missing one is IMAGE_NOT_FOUND (a build may not have run yet). */
const BERTH_NAMESPACE = 'berth/';

/** `docker.io/x`, `localhost/x`, `registry.example/x`: a registry host, which a local image never names. */
const namesRegistry = (image: string) => {
  const [first, ...rest] = image.split('/');
  return rest.length > 0 && (first!.includes('.') || first === 'localhost');
};

/**
 * Which images a caller may ask for: those labelled as workspace images (but not a repo's main
 * image, which inherits the label), or exact ALLOWED_IMAGES entries. Decided by inspecting the image
 * on the engine at create time; a pool's own image is the operator's choice and is not asked about.
 */
export class ImagePolicy {
  constructor(
    private readonly driver: WorkloadDriver,
    private readonly allowed: readonly string[],
  ) {}

  checkTemplate(image: string, owner: string, name: string): Promise<void> {
    return checkTemplate(this.driver, image, owner, name);
  }

  async check(image: string, owner?: string): Promise<void> {
    const listed = this.allowed.includes(image);
    if (!listed && namesRegistry(image)) throw notAllowed(image);
    const labels = await this.driver.imageLabels(image);
    if (!labels) {
      if (listed || image.startsWith(BERTH_NAMESPACE)) throw new BerthError('IMAGE_NOT_FOUND', `image ${image} is not on this host`);
      throw notAllowed(image);
    }
    if (listed) return;
    if (labels[WORKSPACE_IMAGE_LABEL] !== 'true') throw notAllowed(image);
    // A repo's main image holds a checkout made with someone's token: it is reached through a setup
    // (hasMainImage) or a repo pool, never by naming it.
    if (labels[MAIN_IMAGE_LABELS.mainImage] === 'true') {
      throw new BerthError('IMAGE_NOT_ALLOWED', `image ${image} is a repository's main image: use a setup with hasMainImage or its repo pool`);
    }
    // A template is its owner's alone (it may hold what they baked into it): never by another's tag.
    const templateOwner = labels[TEMPLATE_LABELS.owner];
    if (templateOwner && templateOwner !== owner) throw new BerthError('TEMPLATE_NOT_FOUND', `no template image ${image}`);
  }
}

/** The owner's template `name` (its image, `image`, is tagged from owner and name by image-builder). */
async function checkTemplate(driver: WorkloadDriver, image: string, owner: string, name: string): Promise<void> {
  const labels = await driver.imageLabels(image);
  if (!labels || labels[TEMPLATE_LABELS.owner] !== owner || labels[TEMPLATE_LABELS.name] !== name || labels[WORKSPACE_IMAGE_LABEL] !== 'true') {
    throw new BerthError('TEMPLATE_NOT_FOUND', `no template ${name} on this host (POST /api/templates builds it)`);
  }
}

const notAllowed = (image: string) =>
  new BerthError('IMAGE_NOT_ALLOWED', `image ${image} is not a workspace image (label ${WORKSPACE_IMAGE_LABEL}) nor in ALLOWED_IMAGES`);
