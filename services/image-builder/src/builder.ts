import { randomBytes } from 'node:crypto';
import { BUILD_LABELS, MAIN_IMAGE_LABELS, mainImageTag, sameRepo, type ImageBuildRequest } from '@berth/contracts';
import type { Logger } from '@berth/service-kit';
import { buildContainerName, copyContainerOptions, EMPTY_SOURCE_EXIT } from './copy-spec.js';
import type { DockerEngine, ImageInfo } from './docker-engine.js';
import { makeImageTree } from './image-trees.js';

/** How a build ended; every one but a thrown error settles the request for good. */
export type BuildOutcome = 'built' | 'unchanged' | 'workspace-gone' | 'refused';

export interface BuilderOptions {
  hostId: string;
  timeoutMs: number;
  memoryMb: number;
  /** Where a commit's image id waits until it is tagged, so the image collection leaves it alone. */
  untagged?: Set<string>;
}

/** A build that can never succeed: the request is dropped, not retried. */
class Refusal extends Error {}

/**
 * Commits one set-up workspace as its repo's main image. The caller runs at most one build per
 * repo at a time. Throws on failures worth retrying (Docker errors, a failed or timed-out copy).
 */
export class Builder {
  constructor(
    private readonly engine: DockerEngine,
    private readonly opts: BuilderOptions,
    private readonly logger: Logger,
  ) {}

  async build(req: ImageBuildRequest, signal: AbortSignal): Promise<BuildOutcome> {
    const log = this.logger.child({ repo: req.repo, sha: req.sha, workspace: req.id });
    try {
      return await this.run(req, signal, log);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      log.warn({ reason: err.message }, 'main image build refused');
      return 'refused';
    }
  }

  private async run(req: ImageBuildRequest, signal: AbortSignal, log: Logger): Promise<BuildOutcome> {
    signal.throwIfAborted();
    const tag = mainImageTag(req.repo);
    if (!tag) throw new Refusal('the repository name does not map to a Docker image name');
    if (req.hostId !== this.opts.hostId) throw new Refusal(`addressed to host ${req.hostId}, this is ${this.opts.hostId}`);
    const current = await this.engine.inspectImage(tag);
    if (current && !sameRepo(current.labels[MAIN_IMAGE_LABELS.repo], req.repo)) {
      throw new Refusal(`${tag} belongs to ${current.labels[MAIN_IMAGE_LABELS.repo] ?? 'an image berth did not build'}`);
    }
    if (current?.labels[MAIN_IMAGE_LABELS.sha] === req.sha) {
      log.info({ image: tag }, 'main image already at this commit');
      return 'unchanged';
    }
    const ws = await this.engine.findWorkspace(this.opts.hostId, req.id);
    if (!ws?.volume || !(await this.engine.volumeExists(ws.volume))) {
      log.warn('workspace or its volume is gone; dropping the build');
      return 'workspace-gone';
    }
    const { ref: baseRef, image: base } = await this.baseOf(ws.image);
    const buildId = `b${randomBytes(6).toString('hex')}`;
    const started = Date.now();
    try {
      const run = await this.engine.runToExit(
        copyContainerOptions({ buildId, hostId: this.opts.hostId, baseImage: baseRef, volume: ws.volume, memoryMb: this.opts.memoryMb }),
        this.opts.timeoutMs,
        signal,
      );
      if (run.exitCode === EMPTY_SOURCE_EXIT) {
        log.warn('workspace volume is empty or gone; dropping the build');
        return 'workspace-gone';
      }
      if (run.exitCode !== 0) throw new Error(`copy exited with ${run.exitCode}: ${run.output.trim().slice(-500)}`);
      const [repo, version] = tag.split(':') as [string, string];
      const id = await this.engine.commit(run.ref, {
        entrypoint: base.entrypoint,
        cmd: base.cmd,
        labels: {
          [MAIN_IMAGE_LABELS.mainImage]: 'true',
          [MAIN_IMAGE_LABELS.repo]: req.repo,
          [MAIN_IMAGE_LABELS.sha]: req.sha,
          [MAIN_IMAGE_LABELS.builtAt]: new Date().toISOString(),
          [MAIN_IMAGE_LABELS.baseImage]: baseRef,
          [MAIN_IMAGE_LABELS.builder]: this.opts.hostId,
          // Docker merges the copy container's labels into the image and cannot drop one: blank it.
          [BUILD_LABELS.build]: '',
        },
      });
      // The tree before the tag: a setup finds the image by its tag, and one that found it before its
      // tree existed would copy the whole /workspace (seconds for a big tree) instead of layering over it.
      // Without its tree the image still works: its workspaces copy /workspace as before.
      this.opts.untagged?.add(id);
      try {
        await makeImageTree(this.engine.docker, id, this.opts.hostId).catch((err: unknown) => log.warn({ err, image: tag }, 'image tree not made'));
        await this.engine.tag(id, repo, version);
      } finally {
        this.opts.untagged?.delete(id);
      }
      log.info({ image: tag, imageId: id, ms: Date.now() - started, replaced: current?.labels[MAIN_IMAGE_LABELS.sha] }, 'main image built');
      return 'built';
    } finally {
      await this.engine.removeContainer(buildContainerName(buildId)).catch((err: unknown) => log.warn({ err, buildId }, 'copy container not removed'));
    }
  }

  /** The image to copy onto: the workspace's image, or, when that is a main image, the image it was made from. */
  private async baseOf(image: string): Promise<{ ref: string; image: ImageInfo }> {
    const info = await this.engine.inspectImage(image);
    if (!info) throw new Refusal(`the workspace's image ${image} is gone`);
    if (info.labels[MAIN_IMAGE_LABELS.mainImage] !== 'true') return { ref: image, image: info };
    const baseRef = info.labels[MAIN_IMAGE_LABELS.baseImage];
    const base = baseRef ? await this.engine.inspectImage(baseRef) : undefined;
    if (!baseRef || !base) throw new Refusal(`the base image of ${image} is gone`);
    return { ref: baseRef, image: base };
  }
}
