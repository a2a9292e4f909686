import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BerthError, MAIN_IMAGE_LABELS, TEMPLATE_LABELS, WORKSPACE_IMAGE_LABEL, imageTreeVolumeName, type TemplateView } from '@berth/contracts';
import { isDockerStatus, readTarFile, tarOf, templateImageTag, templateOwnerKey, type Logger } from '@berth/service-kit';
import type Docker from 'dockerode';
import { makeImageTree } from '../image-trees.js';
import { proxyBuildArgs } from './build-network.js';
import { checkDockerfile } from './dockerfile-check.js';

/** A template's Dockerfile as text (empty context) or a caller's uncompressed tar context with a Dockerfile at its root. */
export type TemplateSource = { dockerfile: string } | { context: Buffer };

export interface TemplateBuilderOptions {
  hostId: string;
  /** berth's workspace image: the agent and tini are copied from it into every template. */
  workspaceImage: string;
  /** Docker network of the build's RUN steps: `none` (default), or one that reaches only egress. */
  network: string;
  /** egress's forward proxy as RUN steps reach it on `network`, given as HTTP(S)_PROXY; empty: none. */
  proxyUrl: string;
  memoryMb: number;
  /** CPU of the RUN steps, percent of one core (CFS quota per 100 ms period). */
  cpuPercent: number;
  timeoutMs: number;
}

/**
 * The hardening every template gets on top of the caller's build (never edited into it): berth's
 * agent and tini, the workspace user, berth's entrypoint. Labels are set by the build call.
 */
const hardening = (built: string, workspaceImage: string) =>
  [
    `FROM ${built}`,
    `COPY --from=${workspaceImage} /opt/berth/ /opt/berth/`,
    `COPY --from=${workspaceImage} /usr/bin/tini /usr/bin/tini`,
    'USER 1000:1000',
    'WORKDIR /workspace',
    'ENV HOME=/home/berth',
    'ENTRYPOINT ["/usr/bin/tini", "--", "/opt/berth/berth-agent-entrypoint.sh"]',
    'CMD ["sleep", "infinity"]',
    '',
  ].join('\n');

/**
 * Builds, lists and removes owners' templates on this host's engine with the legacy builder (no
 * registry: every FROM is a local image). Build output goes to `onOutput` as the engine sends it.
 */
export class TemplateBuilder {
  constructor(
    private readonly docker: Docker,
    private readonly opts: TemplateBuilderOptions,
    private readonly logger: Logger,
  ) {}

  async build(owner: string, name: string, source: TemplateSource, onOutput: (text: string) => void, signal?: AbortSignal): Promise<TemplateView> {
    const dockerfile = 'dockerfile' in source ? source.dockerfile : readTarFile(source.context, 'Dockerfile')?.toString('utf8');
    if (dockerfile === undefined) throw new BerthError('VALIDATION_FAILED', 'the tar context has no Dockerfile at its root (an uncompressed tar is expected)');
    await this.check(owner, dockerfile);
    const context = 'dockerfile' in source ? tarOf([{ name: 'Dockerfile', content: dockerfile }]) : source.context;
    const scratch = `berth/template-build-${randomBytes(6).toString('hex')}:tmp`;
    try {
      const built = await this.run(context, { t: scratch, buildargs: JSON.stringify(proxyBuildArgs(this.opts.proxyUrl)) }, onOutput, signal);
      const tag = templateImageTag(owner, name);
      await this.run(
        tarOf([{ name: 'Dockerfile', content: hardening(built, this.opts.workspaceImage) }]),
        {
          t: tag,
          labels: JSON.stringify({
            [WORKSPACE_IMAGE_LABEL]: 'true',
            [TEMPLATE_LABELS.name]: name,
            [TEMPLATE_LABELS.owner]: owner,
            [TEMPLATE_LABELS.builder]: this.opts.hostId,
            // A template never passes for a main image, whatever its base said.
            [MAIN_IMAGE_LABELS.mainImage]: '',
            [MAIN_IMAGE_LABELS.repo]: '',
          }),
        },
        onOutput,
        signal,
      );
      await makeImageTree(this.docker, tag, this.opts.hostId);
      const view = await this.get(owner, name);
      this.logger.info({ template: name, image: view.image }, 'template built');
      return view;
    } finally {
      await this.docker
        .getImage(scratch)
        .remove({ noprune: true })
        .catch(() => undefined);
    }
  }

  /** The Dockerfile's instructions and every image it builds from, as build() checks them before running anything. */
  async check(owner: string, dockerfile: string): Promise<void> {
    const { images } = checkDockerfile(dockerfile);
    for (const image of images) await this.checkBase(owner, image);
  }

  async get(owner: string, name: string): Promise<TemplateView> {
    const tag = templateImageTag(owner, name);
    const info = await this.docker
      .getImage(tag)
      .inspect()
      .catch((err: unknown) => {
        if (isDockerStatus(err, 404)) return undefined;
        throw err;
      });
    const labels = info?.Config.Labels ?? {};
    if (!info || labels[TEMPLATE_LABELS.owner] !== owner || labels[TEMPLATE_LABELS.name] !== name) {
      throw new BerthError('TEMPLATE_NOT_FOUND', `no template ${name}`);
    }
    const tree = await this.docker
      .getVolume(imageTreeVolumeName(info.Id))
      .inspect()
      .then(
        () => true,
        () => false,
      );
    return { name, image: tag, imageId: info.Id, createdAt: new Date(info.Created).toISOString(), tree };
  }

  async list(owner: string): Promise<TemplateView[]> {
    const images = await this.docker.listImages({
      filters: { label: [`${TEMPLATE_LABELS.owner}=${owner}`, `${TEMPLATE_LABELS.builder}=${this.opts.hostId}`] },
    });
    const prefix = `berth/template-${templateOwnerKey(owner)}:`;
    const names = images
      .flatMap((i) => i.RepoTags ?? [])
      .filter((t) => t.startsWith(prefix))
      .map((t) => t.slice(prefix.length));
    const views: TemplateView[] = [];
    for (const n of names.sort()) {
      // Removed since the listing: skipped.
      const view = await this.get(owner, n).catch(() => undefined);
      if (view) views.push(view);
    }
    return views;
  }

  /** Untags the owner's template; its image (and tree) go once no workspace uses it (image GC). */
  async remove(owner: string, name: string): Promise<void> {
    const view = await this.get(owner, name);
    try {
      await this.docker.getImage(view.image).remove({ noprune: false });
    } catch (err) {
      // A workspace still runs it: the tag goes now, the image with its last workspace.
      if (!isDockerStatus(err, 409)) throw err;
      await this.docker.getImage(view.image).remove({ force: true, noprune: true });
    }
  }

  /**
   * A base must be on this host and be a berth workspace image (not a repo's main image, which holds
   * someone's checkout), or one of the caller's own templates: never another owner's.
   */
  private async checkBase(owner: string, image: string): Promise<void> {
    const info = await this.docker
      .getImage(image)
      .inspect()
      .catch(() => undefined);
    const labels = info?.Config.Labels ?? {};
    const refuse = (why: string) => new BerthError('TEMPLATE_BASE_NOT_ALLOWED', `${image.slice(0, 200)}: ${why}`);
    if (!info)
      throw refuse(
        'not an image on this host (there is no registry: start FROM a berth workspace image such as berth/workspace:latest, or one of your templates)',
      );
    if (labels[WORKSPACE_IMAGE_LABEL] !== 'true') throw refuse('not a berth workspace image');
    if (labels[MAIN_IMAGE_LABELS.mainImage] === 'true') throw refuse("a repository's main image cannot be a template's base");
    const templateOwner = labels[TEMPLATE_LABELS.owner];
    if (templateOwner && templateOwner !== owner) throw refuse("another owner's template");
  }

  /** One legacy-builder build; resolves with the built image id, or fails TEMPLATE_BUILD_FAILED with the output's tail. */
  private async run(context: Buffer, query: Record<string, string>, onOutput: (text: string) => void, signal?: AbortSignal): Promise<string> {
    const memory = this.opts.memoryMb * 1024 * 1024;
    const stream = await this.docker.buildImage(Readable.from([context]), {
      ...query,
      version: '1',
      networkmode: this.opts.network,
      pull: false,
      rm: true,
      forcerm: true,
      memory,
      memswap: memory,
      cpuperiod: 100_000,
      cpuquota: this.opts.cpuPercent * 1_000,
      nocache: false,
    } as Docker.ImageBuildOptions);
    let tail = '';
    let imageId: string | undefined;
    let failure: string | undefined;
    const onAbort = () => (stream as unknown as { destroy(e?: Error): void }).destroy(new Error('template build aborted'));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      onAbort();
    }, this.opts.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(
          stream,
          (err: Error | null) => (err && !failure ? reject(err) : resolve()),
          (event: { stream?: string; error?: string; aux?: { ID?: string } }) => {
            if (event.aux?.ID) imageId = event.aux.ID;
            const text = event.stream ?? (event.error ? `${event.error}\n` : '');
            if (event.error) failure = event.error;
            if (!text) return;
            tail = (tail + text).slice(-4000);
            onOutput(text);
          },
        );
      });
    } catch (err) {
      if (timedOut)
        throw new BerthError('TEMPLATE_BUILD_TIMEOUT', `the template build ran longer than ${this.opts.timeoutMs} ms and was stopped`, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    if (failure) throw new BerthError('TEMPLATE_BUILD_FAILED', `template build failed: ${tail.trim().slice(-1500)}`);
    const built = imageId ?? /Successfully built ([0-9a-f]{12,64})/.exec(tail)?.[1];
    if (!built) throw new BerthError('TEMPLATE_BUILD_FAILED', `template build ended without an image: ${tail.trim().slice(-1500)}`);
    return built;
  }
}
