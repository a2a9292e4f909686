import { BerthError } from '@berth/contracts';
import type { Backend } from '../backend.js';
import type { Upstream } from './upstream-proxy.js';

/** A container port as spelled in a preview path or host: digits only, 1-65535, no sign, no leading zero. */
export function previewPortOf(raw: unknown, id: string): number {
  const s = typeof raw === 'string' ? raw : '';
  const port = /^[1-9][0-9]{0,4}$/.test(s) ? Number(s) : 0;
  if (port < 1 || port > 65_535) throw notPublished(id, s.slice(0, 20));
  return port;
}

export function notPublished(id: string, port: number | string): BerthError {
  return new BerthError('PREVIEW_PORT_NOT_PUBLISHED', `container ${id} does not publish port ${port}`);
}

export interface TargetOptions {
  backend: Backend;
  /** The address the workspace host publishes its ports on (pool-manager's PORT_BIND_ADDRESS). */
  upstreamHost: string;
  timeoutMs: number;
  traceparent?: string | undefined;
}

/**
 * The published host port of `port` on the owner's container, from pool-manager's view of it
 * (CONTAINER_NOT_FOUND for another owner's): the proxy never connects anywhere else. Asked on every
 * request, so a removed container or a revoked link stops at once.
 */
export async function resolveUpstream(o: TargetOptions, id: string, owner: string, port: number): Promise<Upstream> {
  const view = await o.backend.request('containerGet', { id, owner }, { timeoutMs: o.timeoutMs, traceparent: o.traceparent });
  // Hook for paused workspaces (issue 16 §3): resume here when autoResume is on, else 409 CONTAINER_PAUSED.
  const hostPort = view.ports[String(port)];
  if (hostPort === undefined) throw notPublished(id, port);
  return { host: o.upstreamHost, port: hostPort };
}
