import { BerthError } from '@berth/contracts';
import type { TraceContext } from '@berth/service-kit';
import type { Backend } from '../backend.js';
import type { Upstream } from './upstream-proxy.js';

/** A container port as spelled in a preview path or host: digits only, 1-65535, no sign, no leading zero. */
export function previewPortOf(raw: unknown, id: string): number {
  const s = typeof raw === 'string' ? raw : '';
  const port = /^[1-9][0-9]{0,4}$/.test(s) ? Number(s) : 0;
  if (port < 1 || port > 65_535) throw notPublished(id, s.slice(0, 20));
  return port;
}

function notPublished(id: string, port: number | string): BerthError {
  return new BerthError('PREVIEW_PORT_NOT_PUBLISHED', `container ${id} does not publish port ${port}`);
}

export interface TargetOptions {
  backend: Backend;
  /** The address the workspace host publishes its ports on (pool-manager's PORT_BIND_ADDRESS). */
  upstreamHost: string;
  timeoutMs: number;
  trace?: TraceContext | undefined;
}

/**
 * The published host port of `port` on the owner's container, from pool-manager's view of it
 * (CONTAINER_NOT_FOUND for another owner's): the proxy never connects anywhere else.
 */
export async function resolveUpstream(o: TargetOptions, id: string, owner: string, port: number, cache?: PortMapCache): Promise<Upstream> {
  const ports = cache?.get(owner, id) ?? (await fetchPorts(o, id, owner, cache));
  const hostPort = ports[String(port)];
  if (hostPort === undefined) throw notPublished(id, port);
  return { host: o.upstreamHost, port: hostPort };
}

async function fetchPorts(o: TargetOptions, id: string, owner: string, cache: PortMapCache | undefined): Promise<Record<string, number>> {
  const opts = { timeoutMs: o.timeoutMs, trace: o.trace };
  const view = await o.backend.request('containerGet', { id, owner }, opts);
  // A paused workspace is resumed as an exec would resume it (autoResume), else 409 CONTAINER_PAUSED;
  // its ports are cached only once it runs, so each request of a paused one checks again.
  if (view.state === 'paused') {
    await o.backend.request('containerResume', { id, owner, auto: true }, opts);
    return view.ports;
  }
  cache?.set(owner, id, view.ports);
  return view.ports;
}

/**
 * pool-manager's answer for (owner, container), kept for a short time so a page's burst of asset
 * requests costs one NATS round trip, not one each. The bound on staleness: for at most `ttlMs`
 * after a container is removed, its owner's requests may still go to its old host port (refused,
 * or, if the port was reserved again meanwhile, another workspace's server; docs/previews.md).
 * Share links are resolved on every request, so a revoke is immediate.
 */
export class PortMapCache {
  private readonly entries = new Map<string, { ports: Record<string, number>; until: number }>();

  constructor(private readonly ttlMs: number) {}

  get(owner: string, id: string): Record<string, number> | undefined {
    const key = `${owner}\0${id}`;
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.until > Date.now()) return e.ports;
    this.entries.delete(key);
    return undefined;
  }

  set(owner: string, id: string, ports: Record<string, number>): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= 10_000) this.entries.clear();
    this.entries.set(`${owner}\0${id}`, { ports, until: Date.now() + this.ttlMs });
  }

  forget(owner: string, id: string): void {
    this.entries.delete(`${owner}\0${id}`);
  }
}
