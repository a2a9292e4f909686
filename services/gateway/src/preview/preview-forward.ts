import type { IncomingMessage } from 'node:http';
import { BerthError, httpStatusOf } from '@berth/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Backend } from '../backend.js';
import { traceOf } from '../trace.js';
import { downstreamResponseHeaders, upstreamRequestHeaders, type PreviewForm } from './preview-headers.js';
import type { PreviewActivity } from './preview-activity.js';
import { resolveUpstream, type PortMapCache } from './preview-target.js';
import type { ShareGuard } from './share-guard.js';
import { forwardHttp, forwardUpgrade } from './upstream-proxy.js';

export interface PreviewDeps {
  backend: Backend;
  upstreamHost: string;
  requestTimeoutMs: number;
  activity: PreviewActivity;
  /** Short-lived port maps (PREVIEW_RESOLVE_CACHE_MS); absent: pool-manager is asked every time. */
  portMaps?: PortMapCache;
  /** Failed share-link secrets per source (share-guard.ts); absent: unlimited. */
  shareGuard?: ShareGuard;
}

export interface PreviewTarget {
  form: PreviewForm;
  id: string;
  owner: string;
  port: number;
  /** The path and query for the workspace, as the caller spelled them (starts with '/'). */
  path: string;
}

/** What @fastify/websocket keeps on an upgrade's raw request under its (private) symbols. */
function wsSymbol(raw: IncomingMessage, description: string): unknown {
  const sym = Object.getOwnPropertySymbols(raw).find((s) => s.description === description);
  return sym === undefined ? undefined : (raw as unknown as Record<symbol, unknown>)[sym];
}

/** The upgrade's first bytes (usually none: a client waits for the 101). */
function upgradeHead(raw: IncomingMessage): Buffer {
  const head = wsSymbol(raw, 'ws-head');
  return Buffer.isBuffer(head) ? head : Buffer.alloc(0);
}

/** Whether this request came in as an HTTP Upgrade (a WebSocket) rather than a plain request. */
export function isUpgrade(req: FastifyRequest): boolean {
  return wsSymbol(req.raw, 'ws-socket') !== undefined;
}

/**
 * Proxies one request (plain HTTP or a WebSocket upgrade) to the target's published port. The
 * response streams through (reply.send of the upstream stream: nothing is buffered); an upgrade
 * takes the raw socket over (the reply is hijacked).
 */
export async function forwardPreview(d: PreviewDeps, req: FastifyRequest, reply: FastifyReply, t: PreviewTarget): Promise<FastifyReply> {
  const upstream = await resolveUpstream(
    { backend: d.backend, upstreamHost: d.upstreamHost, timeoutMs: d.requestTimeoutMs, trace: traceOf(req.raw) },
    t.id,
    t.owner,
    t.port,
    d.portMaps,
  );
  d.activity.touch(t.id, t.owner);
  const upgrade = isUpgrade(req);
  const headers = upstreamRequestHeaders({
    headers: req.headers,
    form: t.form,
    containerPort: t.port,
    clientIp: req.ip,
    proto: req.protocol,
    host: req.host,
    upgrade,
  });
  if (upgrade) {
    reply.hijack();
    const socket = req.raw.socket;
    try {
      await forwardUpgrade(socket, upgradeHead(req.raw), upstream, t.path, headers, (res) =>
        downstreamResponseHeaders(res.headers, t.form, res.statusCode === 101),
      );
    } catch (err) {
      const e = err instanceof BerthError ? err : new BerthError('INTERNAL', 'preview failed');
      const body = JSON.stringify(e.toBody());
      socket.end(
        `HTTP/1.1 ${httpStatusOf(e.code)} Preview Failed\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    }
    return reply;
  }
  const res = await forwardHttp(req.raw, upstream, req.method, t.path, headers).catch((err: unknown) => {
    // Nothing listens there: maybe the container went away, so ask pool-manager next time.
    d.portMaps?.forget(t.owner, t.id);
    throw err;
  });
  return reply
    .code(res.statusCode ?? 502)
    .headers(downstreamResponseHeaders(res.headers, t.form))
    .send(res);
}

/** The part of a raw request target after `prefix` (already matched by the router), as a path for the workspace. */
export function pathAfter(rawUrl: string, prefixSegments: number): string {
  const q = rawUrl.indexOf('?');
  const pathname = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const rest = pathname
    .split('/')
    .slice(prefixSegments + 1)
    .join('/');
  return `/${rest}${q === -1 ? '' : rawUrl.slice(q)}`;
}
