/**
 * Every label berth sets on or reads from engine objects (workspace and task containers, volumes,
 * networks, images). The one place label keys and fixed values are spelt: services, scripts and
 * tests import them from here (a unit test fails on a `'berth.…'` label literal anywhere else).
 */

/** Labels of a workspace's container and its own volume; reconcile rebuilds Redis from them. */
export const WORKLOAD_LABELS = {
  /** `true` on everything pool-manager made for workspaces (containers, volumes, the workspaces' network). */
  managed: 'berth.managed',
  id: 'berth.id',
  pool: 'berth.pool',
  /** BERTH_HOST_ID of the pool-manager that owns it. */
  host: 'berth.host',
  /** JSON containerPort → hostPort. */
  ports: 'berth.ports',
  memoryMb: 'berth.memory-mb',
  image: 'berth.image',
  /** The caller's volume name (volumeName). */
  volume: 'berth.volume',
  /** Marks a task container (not a workspace: reconcile leaves it alone), value: the task kind. */
  task: 'berth.task',
  /** Set on containers created for a caller; a warm container gets its owner (sealed) in its name when claimed. */
  owner: 'berth.owner',
  /** The size of the workspace's own /workspace filesystem, when the create asked for one (docs/limits.md). */
  diskMb: 'berth.disk-mb',
} as const;

/**
 * Labels of the volumes berth makes for an owner (named volumes and npm caches). A volume counts as
 * an owner's only when the engine says so after it was created (labels cannot change afterwards).
 * No `berth.host` label: reconcile removes volumes carrying it whose workspace is gone.
 */
export const VOLUME_LABELS = {
  /** `owner` (a caller's named volume) or `npm-cache` (the owner's npm cache). */
  kind: 'berth.volume-kind',
  owner: 'berth.volume-owner',
  /** The name the caller chose (the engine's name is derived from host, owner and this). */
  name: 'berth.volume-name',
  /** BERTH_HOST_ID of the pool-manager that made it. */
  host: 'berth.volume-host',
} as const;

export const VOLUME_KINDS = { owner: 'owner', npmCache: 'npm-cache' } as const;

/** Labels of a node_modules seed volume (per host, owner and repo). */
export const SEED_LABELS = {
  /** What it seeds: `node_modules`. */
  seed: 'berth.seed',
  /** BERTH_HOST_ID of its pool-manager (not `berth.host`: reconcile collects those as orphans). */
  host: 'berth.seed-host',
} as const;

/**
 * Set (`true`) by docker/images/workspace.Dockerfile; images built from it (main images) inherit it.
 * Only images carrying it, or exact ALLOWED_IMAGES entries, become workspaces.
 */
export const WORKSPACE_IMAGE_LABEL = 'berth.workspace-image';

/** Labels of a main image. Pool-manager reads them by inspecting the tag (no NATS round trip). */
export const MAIN_IMAGE_LABELS = {
  mainImage: 'berth.main-image',
  /** `owner/repo` as requested: check it, two repos can map to one tag (`a-b/c`, `a/b-c`). */
  repo: 'berth.repo',
  sha: 'berth.sha',
  builtAt: 'berth.built-at',
  /** The image the workspace was made from; the next build starts from it again, not from this one. */
  baseImage: 'berth.base-image',
  /** BERTH_HOST_ID of the image-builder that made it (its GC only touches its own images). */
  builder: 'berth.builder',
} as const;

/** Labels of image-builder's copy containers: the build they belong to and the builder's host. */
export const BUILD_LABELS = { build: 'berth.build', builder: MAIN_IMAGE_LABELS.builder } as const;

// w4-templates: image trees (docs/templates.md, "Constant-time start").
/**
 * Labels of an image tree volume: a read-only copy of an image's /workspace that image-builder makes
 * once per image (main images, templates). A workspace of that image gets a copy-on-write overlay
 * over it instead of a copy of the tree (constant time whatever the tree's size).
 */
export const IMAGE_TREE_LABELS = {
  /** The image's engine id (`sha256:…`) the tree was copied from. */
  image: 'berth.tree-image',
  /** BERTH_HOST_ID of the image-builder that made it (its GC removes it once the image is gone). */
  builder: 'berth.tree-builder',
} as const;

/** The tree volume of an image, by its engine id: one per image, never written after it is made. */
export const imageTreeVolumeName = (imageId: string) => `berth-tree-${imageId.replace(/^sha256:/, '').slice(0, 32)}`;

/** Labels of a layered workspace volume's upper and work directories (removed with it, never on their own). */
export const LAYER_LABELS = {
  /** The overlay volume they belong to. */
  of: 'berth.layer-of',
} as const;

/** Labels of a template image (w4-templates): its owner-scoped name; it also carries WORKSPACE_IMAGE_LABEL. */
export const TEMPLATE_LABELS = {
  /** The name its owner chose (TemplateNameSchema). */
  name: 'berth.template',
  /** The owner, as pool-manager and the gateway know it (API-key owner). */
  owner: 'berth.template-owner',
  /** BERTH_HOST_ID of the image-builder that built it. */
  builder: 'berth.template-builder',
} as const;
