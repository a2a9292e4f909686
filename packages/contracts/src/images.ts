import { ImageBuildRequestSchema, type ImageBuildRequest } from './setup.js';
import type { ServiceName } from './subjects.js';

/**
 * Main-image builds, in the JetStream work-queue stream BUILDS. Images and workspace volumes live
 * on one Docker host (there is no registry), so a build is addressed to its host:
 * `berth.build.image.<hostId>`, consumed by that host's image-builder through the durable
 * `image-builder-<hostId>` (work-queue consumers filter on disjoint subjects).
 */
export const BUILDS = {
  stream: 'BUILDS',
  subjects: ['berth.build.image.>'],
  pattern: 'berth.build.image.*',
  /** Creates the stream and the consumers (JetStream API permissions are generated for it). */
  managedBy: 'image-builder' as ServiceName,
  publishers: ['pool-manager'] as readonly ServiceName[],
  consumers: ['image-builder'] as readonly ServiceName[],
  schema: ImageBuildRequestSchema,
  subject: (hostId: string) => `berth.build.image.${hostId}`,
  durable: (hostId: string) => `image-builder-${hostId}`,
  /** Nats-Msg-Id: a request published twice for one workspace and commit is stored once. */
  msgId: (req: Pick<ImageBuildRequest, 'id' | 'sha'>) => `build-${req.id}-${req.sha}`,
} as const;

/** Docker's rule for one path component of a repository name. */
const DOCKER_NAME_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * `berth/<owner>-<repo>:main`, lowercased; undefined when the result is not a valid Docker name
 * (a repo like `acme/_x` or `acme/x-`). Different repos can share a tag: compare the repo label.
 */
export function mainImageTag(repo: string): string | undefined {
  const parts = repo.split('/');
  const [owner, name] = parts;
  if (parts.length !== 2 || !owner || !name) return undefined;
  const component = `${owner}-${name}`.toLowerCase();
  return DOCKER_NAME_COMPONENT.test(component) && component.length <= 200 ? `berth/${component}:main` : undefined;
}

/** Whether an image's `berth.repo` label names `repo` (GitHub names are case-insensitive). */
export const sameRepo = (label: string | undefined, repo: string): boolean => label !== undefined && label.toLowerCase() === repo.toLowerCase();
