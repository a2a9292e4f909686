import {
  TemplateBuildEventSchema,
  TemplateDeletedSchema,
  TemplateInfoSchema,
  TemplateListSchema,
  type TemplateDeleted,
  type TemplateInfo,
  type TemplateList,
  type TemplateOnHost,
} from '@berth/contracts';
import { BerthResponseError, streamedApiError, type BerthApiError, type CallSite } from './errors.js';
import { linesOf } from './lines.js';
import type { CallOptions } from './options.js';
import { callSignal } from './signals.js';
import { classify, type Transport } from './transport.js';

/** A build runs two image builds per host: 15 minutes unless the call says otherwise. */
export const TEMPLATE_BUILD_DEFAULT_TIMEOUT_MS = 15 * 60_000;

/** The Dockerfile alone (an empty context), or an uncompressed tar context with a `Dockerfile` at its root. */
export type TemplateSource = { dockerfile: string } | { context: Uint8Array };

export interface TemplateBuildOptions extends Omit<CallOptions, 'retry'> {
  /** Each host's build output as it comes. */
  onOutput?: (data: string, hostId: string) => void;
}

export interface TemplateBuildResult {
  name: string;
  /** The template on each host it was built on (a create can use it there). */
  built: TemplateOnHost[];
  /** Hosts whose build failed, with why. */
  failed: { hostId: string; error: BerthApiError }[];
}

/** `berth.templates`: workspace images you build from a Dockerfile, on every host. */
export class Templates {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * Builds the template on every host, its output to `onOutput` as it comes. Resolves when every
   * host is done; throws the first host's error when no host built it (a refused Dockerfile,
   * name or base throws before anything builds).
   */
  async build(name: string, source: TemplateSource, opts: TemplateBuildOptions = {}): Promise<TemplateBuildResult> {
    const site: CallSite = { method: 'POST', path: '/api/templates' };
    const timeoutMs = opts.timeoutMs ?? TEMPLATE_BUILD_DEFAULT_TIMEOUT_MS;
    const sig = callSignal(timeoutMs, opts.signal);
    const spec =
      'dockerfile' in source
        ? { method: 'POST' as const, path: site.path, body: { name, dockerfile: source.dockerfile } }
        : {
            method: 'POST' as const,
            path: `${site.path}?name=${encodeURIComponent(name)}`,
            rawBody: source.context,
            headers: { 'content-type': 'application/x-tar' },
          };
    const result: TemplateBuildResult = { name, built: [], failed: [] };
    try {
      const res = await this.#transport.open({ ...spec, headers: { ...spec.headers, accept: 'application/x-ndjson' } }, sig);
      if (!res.body) throw new BerthResponseError(site, res.status, 'no body');
      for await (const line of linesOf(res.body)) {
        if (line.trim() === '') continue;
        const parsed = TemplateBuildEventSchema.safeParse(parseJson(line, site, res.status));
        if (!parsed.success) throw new BerthResponseError(site, res.status, `unexpected stream event: ${parsed.error.issues[0]?.message ?? ''}`);
        const e = parsed.data;
        if (e.type === 'output') opts.onOutput?.(e.data, e.hostId);
        else if (e.type === 'built') result.built.push(e.template);
        else if (e.type === 'failed') result.failed.push({ hostId: e.hostId, error: streamedApiError(e.error, site) });
        else {
          if (result.built.length === 0 && result.failed[0]) throw result.failed[0].error;
          return result;
        }
      }
      throw new BerthResponseError(site, res.status, 'the stream ended before the build was done');
    } catch (err) {
      throw classify(err, site, sig, timeoutMs);
    }
  }

  /** Your templates, each with the hosts it is built on, and the per-host limit. */
  list(opts: CallOptions = {}): Promise<TemplateList> {
    return this.#transport.request({ method: 'GET', path: '/api/templates', schema: TemplateListSchema, idempotent: true }, opts);
  }

  /** One of your templates (TEMPLATE_NOT_FOUND otherwise). */
  get(name: string, opts: CallOptions = {}): Promise<TemplateInfo> {
    return this.#transport.request({ method: 'GET', path: `/api/templates/${encodeURIComponent(name)}`, schema: TemplateInfoSchema, idempotent: true }, opts);
  }

  /** Deletes it on every host: new workspaces cannot use it, running ones keep it. */
  delete(name: string, opts: CallOptions = {}): Promise<TemplateDeleted> {
    return this.#transport.request(
      { method: 'DELETE', path: `/api/templates/${encodeURIComponent(name)}`, schema: TemplateDeletedSchema, idempotent: true },
      opts,
    );
  }
}

function parseJson(line: string, site: CallSite, status: number): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new BerthResponseError(site, status, 'a stream line is not JSON');
  }
}
