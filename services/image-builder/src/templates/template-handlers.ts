import { BerthError, type StreamOpened, type TemplateBuildRequest } from '@berth/contracts';
import { readTarFile, serve, StreamSink, type Logger, type NatsConnection, type Subscription } from '@berth/service-kit';
import { BuildOutput } from './build-output.js';
import { ContextUpload } from './context-upload.js';
import type { TemplateBuilder, TemplateSource } from './template-builder.js';

export interface TemplateServiceOptions {
  maxPerOwner: number;
  contextMaxBytes: number;
  /** The whole build: its context upload, both stages and the tree. */
  timeoutMs: number;
}

interface Deps {
  nc: NatsConnection;
  builder: TemplateBuilder;
  opts: TemplateServiceOptions;
  logger: Logger;
  /** Owners with a build running on this host (one at a time each, so the per-owner count cannot be raced). */
  building: Set<string>;
}

/**
 * Everything that can be refused is refused before the stream opens (a plain error reply, a 4xx
 * for the caller): the Dockerfile's instructions and bases, the per-owner limit, a build already
 * running. The build then runs in the background, its output on the stream.
 */
async function openBuild(d: Deps, req: TemplateBuildRequest): Promise<StreamOpened> {
  if ((req.contextBytes ?? 0) > d.opts.contextMaxBytes) {
    throw new BerthError('PAYLOAD_TOO_LARGE', `a build context may have at most ${d.opts.contextMaxBytes} bytes on this host`);
  }
  if (d.building.has(req.owner)) throw new BerthError('TEMPLATE_BUILD_IN_PROGRESS', 'another of your template builds runs on this host; retry when it ends');
  d.building.add(req.owner);
  try {
    await d.builder.check(req.owner, req.dockerfile);
    const existing = await d.builder.list(req.owner);
    if (!existing.some((t) => t.name === req.name) && existing.length >= d.opts.maxPerOwner) {
      throw new BerthError('TEMPLATE_LIMIT_REACHED', `you have ${existing.length} templates on this host, the most allowed; delete one first`);
    }
  } catch (err) {
    d.building.delete(req.owner);
    throw err;
  }
  const upload = req.contextBytes === undefined ? undefined : new ContextUpload(req.contextBytes);
  const sink = new StreamSink(d.nc, req.streamId, req.inbox, req.window, d.logger, (msg) => upload?.onControl(msg));
  if (upload) {
    upload.sink = sink;
    sink.onBytes = (seq, data) => upload.onBytes(seq, data);
  }
  void runBuild(d, req, sink, upload).finally(() => d.building.delete(req.owner));
  return { streamId: req.streamId };
}

async function runBuild(d: Deps, req: TemplateBuildRequest, sink: StreamSink, upload: ContextUpload | undefined): Promise<void> {
  const started = performance.now();
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, d.opts.timeoutMs);
  void sink.cancelled.then(() => abort.abort());
  abort.signal.addEventListener('abort', () => upload?.fail(new Error('build stopped')), { once: true });
  const output = new BuildOutput(sink);
  try {
    const source: TemplateSource = upload ? { context: await upload.whole() } : { dockerfile: req.dockerfile };
    // The context's own Dockerfile is what gets built: it must be the one checked at the open.
    if ('context' in source && readTarFile(source.context, 'Dockerfile')?.toString('utf8') !== req.dockerfile) {
      throw new BerthError('VALIDATION_FAILED', "the tar context's Dockerfile is not the one checked");
    }
    await d.builder.build(req.owner, req.name, source, (text) => output.push(text), abort.signal);
    await output.flushed();
    sink.finish({ type: 'end', exitCode: 0, timedOut: false, cancelled: false, durationMs: Math.round(performance.now() - started) });
  } catch (err) {
    await output.flushed();
    if (abort.signal.aborted && !timedOut) {
      d.logger.info({ template: req.name }, 'template build cancelled by its caller');
      sink.close();
      return;
    }
    const failure = timedOut
      ? new BerthError('TEMPLATE_BUILD_TIMEOUT', `the template build ran longer than ${d.opts.timeoutMs} ms and was stopped; nothing was tagged`)
      : err instanceof BerthError
        ? err
        : new BerthError('INTERNAL', 'template build failed');
    if (!(err instanceof BerthError) && !timedOut) d.logger.error({ err, template: req.name }, 'template build failed');
    sink.finish({ type: 'error', error: failure.toBody().error });
  } finally {
    clearTimeout(timer);
  }
}

/** Template builds, lists, reads and removals for this host (host-addressed subjects). */
export function serveTemplates(nc: NatsConnection, builder: TemplateBuilder, opts: TemplateServiceOptions, logger: Logger): Subscription[] {
  const d: Deps = { nc, builder, opts, logger, building: new Set() };
  return [
    serve(nc, 'templateBuild', (req) => openBuild(d, req), logger),
    serve(nc, 'templateList', async (req) => ({ templates: await builder.list(req.owner), limit: opts.maxPerOwner }), logger),
    serve(nc, 'templateGet', (req) => builder.get(req.owner, req.name), logger),
    serve(
      nc,
      'templateDelete',
      async (req) => {
        await builder.remove(req.owner, req.name);
        return { name: req.name, removed: true as const };
      },
      logger,
    ),
  ];
}
