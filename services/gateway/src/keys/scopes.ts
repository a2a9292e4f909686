import { BerthError } from '@berth/contracts';
import type { Scope } from './api-key.js';

/**
 * The scope each /api route needs. `admin` holds every scope. Reading a workspace's output (logs)
 * and the ways into a workspace (exec, terminal, and the tickets that open terminals) need `exec`:
 * they can read whatever the workspace holds. A route missing here cannot be registered (see
 * `assertScoped`), so a new route is never reachable without a decision.
 */
export const ROUTE_SCOPES: Readonly<Record<string, Scope>> = {
  'GET /api/containers': 'read',
  'GET /api/containers/:id': 'read',
  'GET /api/containers/:id/usage': 'read',
  'GET /api/pools': 'read',
  'GET /api/volumes': 'read',
  'DELETE /api/volumes/:name': 'write',
  'POST /api/containers': 'write',
  'DELETE /api/containers/:id': 'write',
  'PATCH /api/containers/:id': 'write',
  'POST /api/containers/:id/keepalive': 'write',
  'DELETE /api/containers/:id/llm-key': 'write',
  'POST /api/containers/:id/llm-key': 'write',
  'POST /api/containers/:id/exec': 'exec',
  'POST /api/containers/:id/tickets': 'exec',
  'GET /api/containers/:id/terminal': 'exec',
  'GET /api/containers/:id/logs': 'exec',
  // Setup runs the caller's install and start commands in the workspace: as powerful as exec.
  'POST /api/containers/:id/setup': 'exec',
  'GET /api/containers/:id/setup': 'read',
  // Files: whatever the workspace holds can be read, and what is written there runs: as powerful as exec.
  'GET /api/containers/:id/files': 'exec',
  'PUT /api/containers/:id/files': 'exec',
  'DELETE /api/containers/:id/files': 'exec',
  'GET /api/containers/:id/files/list': 'exec',
  'POST /api/containers/:id/files/move': 'exec',
  'POST /api/containers/:id/files/mkdir': 'exec',
  'GET /api/containers/:id/files/watch': 'exec',
  // Previews reach whatever the workspace serves on its ports, and share links hand that on: exec.
  'POST /api/containers/:id/previews': 'exec',
  'DELETE /api/containers/:id/previews/:previewId': 'write',
  ...Object.fromEntries(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((m) => [`${m} /api/containers/:id/preview/:port/*`, 'exec' as const])),
  // w3-pause: pausing only stops and resumes what the caller already runs.
  'POST /api/containers/:id/pause': 'write',
  'POST /api/containers/:id/resume': 'write',
  // w3-hosts: the operator's view and switch of Docker hosts.
  'GET /api/hosts': 'admin',
  'POST /api/hosts/:id/drain': 'admin',
  'POST /api/hosts/:id/undrain': 'admin',
  // w5-templates-api: a build runs the caller's RUN steps on every host's engine: as powerful as exec.
  'POST /api/templates': 'exec',
  'GET /api/templates': 'read',
  'GET /api/templates/:name': 'read',
  'DELETE /api/templates/:name': 'write',
};

const routeKey = (method: string, url: string) => `${method === 'HEAD' ? 'GET' : method} ${url}`;

export function scopeOf(method: string, url: string): Scope | undefined {
  return ROUTE_SCOPES[routeKey(method, url)];
}

/** For an onRoute hook: refuses to register an /api route nobody gave a scope. */
export function assertScoped(method: string | string[], url: string): void {
  for (const m of [method].flat()) {
    if (scopeOf(m, url) === undefined) throw new Error(`route ${m} ${url} has no scope in ROUTE_SCOPES`);
  }
}

/** 403 FORBIDDEN unless the key holds the route's scope (or admin). Unknown routes pass (they 404). */
export function requireScope(scopes: ReadonlySet<Scope>, method: string, url: string | undefined): void {
  const needed = url === undefined ? undefined : scopeOf(method, url);
  if (needed === undefined || scopes.has(needed) || scopes.has('admin')) return;
  throw new BerthError('FORBIDDEN', `this API key lacks the ${needed} scope`);
}
