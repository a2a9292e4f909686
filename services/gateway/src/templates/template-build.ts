import { BerthError, EXEC_STREAM_KEEPALIVE_MS, type StreamOut, type TemplateBuildEvent } from '@berth/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Backend } from '../backend.js';
import { formatters, wantsSse } from '../routes/exec-stream.js';
import type { StreamBackend, StreamHandle } from '../streams/stream-backend.js';
import { traceOf } from '../trace.js';
import { sendContext } from './context-sender.js';

/** How much longer than image-builder's own build timeout the gateway waits for a build's end. */
const BUILD_DEADLINE_MARGIN_MS = 60_000;

export interface TemplateBuildDeps {
  backend: Backend;
  streams: StreamBackend;
  /** The hosts a template is built on: every host that answers. */
  hosts: () => string[];
  requestTimeoutMs: number;
  buildTimeoutMs: number;
  keepaliveMs?: number;
}

export interface TemplateBuildInput {
  owner: string;
  name: string;
  dockerfile: string;
  /** A tar context (its Dockerfile is `dockerfile`); absent for a Dockerfile alone. */
  context?: Buffer;
}

const asBerthError = (err: unknown) => (err instanceof BerthError ? err : new BerthError('INTERNAL', 'template build failed to start'));
const errorOf = (e: BerthError) => ({ code: e.code, message: e.message, retryable: e.retryable });

/** Opens a build on every host; a refusal that no retry can pass (a 4xx) refuses the whole request before anything builds. */
async function openOnHosts(d: TemplateBuildDeps, input: TemplateBuildInput, req: FastifyRequest) {
  const hosts = d.hosts();
  const data = { owner: input.owner, name: input.name, dockerfile: input.dockerfile, ...(input.context && { contextBytes: input.context.length }) };
  const trace = traceOf(req.raw);
  const deadlineMs = d.buildTimeoutMs + BUILD_DEADLINE_MARGIN_MS;
  const settled = await Promise.allSettled(
    hosts.map((hostId) => d.streams.open('templateBuild', data, { hostId, trace, timeoutMs: d.requestTimeoutMs, deadlineMs })),
  );
  const opened: { hostId: string; handle: StreamHandle }[] = [];
  const unavailable: { hostId: string; error: BerthError }[] = [];
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') opened.push({ hostId: hosts[i]!, handle: r.value });
    else unavailable.push({ hostId: hosts[i]!, error: asBerthError(r.reason) });
  });
  const refusal = unavailable.find((u) => !u.error.retryable) ?? (opened.length === 0 ? unavailable[0] : undefined);
  if (refusal) {
    for (const o of opened) o.handle.close();
    throw refusal.error;
  }
  return { opened, unavailable };
}

/**
 * `POST /api/templates`: the template is built on every host that answers, at once. The answer is
 * a stream of TemplateBuildEvents (NDJSON, or SSE by `Accept`): each host's output as it comes,
 * each host's outcome (`built` with the template as that host has it, or `failed`), `done` last.
 * A slow reader pauses the builds' output (acknowledged only once written); a client that goes
 * away cancels every build.
 */
export async function streamTemplateBuild(d: TemplateBuildDeps, input: TemplateBuildInput, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { opened, unavailable } = await openOnHosts(d, input, req);
  const format = wantsSse(req) ? formatters.sse : formatters.ndjson;
  reply.hijack();
  const res = reply.raw;
  const senders: { stop: () => void }[] = [];
  const closeAll = () => {
    senders.forEach((s) => s.stop());
    opened.forEach((o) => o.handle.close());
  };
  if (res.destroyed || req.raw.socket?.destroyed === true) return closeAll();
  res.writeHead(200, {
    'content-type': wantsSse(req) ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  let seq = 0;
  const write = (event: TemplateBuildEvent): boolean => {
    if (res.destroyed) return true;
    seq += 1;
    keepalive.refresh();
    return res.write(format.event(event, seq));
  };
  const keepalive = setInterval(() => {
    if (!res.destroyed && res.writableLength === 0) res.write(format.keepalive);
  }, d.keepaliveMs ?? EXEC_STREAM_KEEPALIVE_MS);
  keepalive.unref();
  let finished = false;
  const clientGone = new Promise<void>((resolve) => res.once('close', resolve));
  res.on('close', () => {
    clearInterval(keepalive);
    if (!finished) req.log.info({ template: input.name }, 'template build client went away; cancelling the builds');
    closeAll();
  });

  const built: string[] = [];
  const failed: string[] = [];
  for (const u of unavailable) {
    failed.push(u.hostId);
    write({ type: 'failed', hostId: u.hostId, error: errorOf(u.error) });
  }
  const hostsDone = Promise.all(
    opened.map(
      ({ hostId, handle }) =>
        new Promise<void>((resolve) => {
          const sender = input.context ? sendContext(handle, input.context) : undefined;
          if (sender) senders.push(sender);
          const outcome = async (msg: StreamOut): Promise<TemplateBuildEvent> => {
            if (msg.type === 'error') return { type: 'failed', hostId, error: msg.error };
            try {
              const { name: _name, ...template } = await d.backend.request(
                'templateGet',
                { owner: input.owner, name: input.name },
                { hostId, timeoutMs: d.requestTimeoutMs },
              );
              return { type: 'built', hostId, template: { hostId, ...template } };
            } catch (err) {
              return { type: 'failed', hostId, error: errorOf(asBerthError(err)) };
            }
          };
          handle.listen((msg) => {
            if (msg.type === 'out') {
              const flushed = write({ type: 'output', hostId, data: msg.text });
              if (flushed) handle.ack(msg.seq);
              else res.once('drain', () => handle.ack(msg.seq));
              return;
            }
            if (msg.type !== 'end' && msg.type !== 'error') return;
            sender?.stop();
            void outcome(msg).then((event) => {
              (event.type === 'built' ? built : failed).push(hostId);
              write(event);
              resolve();
            });
          });
        }),
    ),
  );
  await Promise.race([hostsDone, clientGone]);
  if (res.destroyed) return;
  finished = true;
  write({ type: 'done', name: input.name, built: built.sort(), failed: failed.sort() });
  clearInterval(keepalive);
  res.end();
}
