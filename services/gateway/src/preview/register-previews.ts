import type { Logger } from '@berth/service-kit';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Backend } from '../backend.js';
import type { KeyRing } from '../keys/api-key.js';
import { previewShareRoutes } from '../routes/preview-share.js';
import { previewRoutes } from '../routes/previews.js';
import { PreviewActivity } from './preview-activity.js';
import { previewHostHook } from './preview-host.js';
import { PortMapCache } from './preview-target.js';
import { ShareGuard } from './share-guard.js';

export interface PreviewOptions {
  /** The address workspaces publish their ports on (127.0.0.1 by default). */
  upstreamHost?: string;
  /** BERTH_PREVIEW_DOMAIN: serve the host form and make share links in it. */
  domain?: string | undefined;
  /** BERTH_PUBLIC_URL, for share links. */
  publicUrl?: string | undefined;
  /** At most one keepalive per workspace this often, ms. */
  activityEveryMs?: number;
  /** How long pool-manager's port map of a container is reused, ms (0: asked on every request). */
  resolveCacheMs?: number;
  /** Failed share-link secrets per source address per minute (the API's failed-auth limit); 0 or absent: unlimited. */
  shareFailuresPerMinute?: number;
  now?: () => number;
}

/**
 * Previews in three places: the host-form hook (added here, first), the /api path-form routes, and
 * the public share-link routes (both returned to be registered where they belong).
 */
export function registerPreviews(
  app: FastifyInstance,
  o: PreviewOptions & { backend: Backend; keys: KeyRing; requestTimeoutMs: number; logger?: Logger | undefined },
): { apiRoutes: FastifyPluginAsync; shareRoutes: FastifyPluginAsync } {
  const deps = {
    backend: o.backend,
    requestTimeoutMs: o.requestTimeoutMs,
    upstreamHost: o.upstreamHost ?? '127.0.0.1',
    activity: new PreviewActivity(o.backend, o.logger, o.activityEveryMs),
    portMaps: new PortMapCache(o.resolveCacheMs ?? 0),
    ...(o.shareFailuresPerMinute && { shareGuard: new ShareGuard(o.shareFailuresPerMinute, o.now) }),
  };
  if (o.domain) app.addHook('onRequest', previewHostHook(deps, o.keys, o.domain));
  const urls = { domain: o.domain, publicUrl: o.publicUrl };
  return {
    apiRoutes: async (api) => api.register(previewRoutes, { ...deps, urls }),
    shareRoutes: async (root) => root.register(previewShareRoutes, deps),
  };
}
