import type { FastifyRequest } from 'fastify';

/** Where share links and host-form previews are served; set from config in main.ts. */
export interface PreviewUrlOptions {
  /** BERTH_PREVIEW_DOMAIN: previews also answer on `<port>-<id>.<domain>`, and share links use that form. */
  domain?: string | undefined;
  /** BERTH_PUBLIC_URL: how callers reach the gateway; the request's own scheme and Host otherwise. */
  publicUrl?: string | undefined;
}

/** The path-form share prefix: `/preview/s/<secret>/…` (public: the secret is the credential). */
const SHARE_PATH_PREFIX = '/preview/s/';

/** The query parameter a host-form share link carries on its first visit (named so logs redact it). */
export const SHARE_QUERY = 'berth_preview_token';

function baseOf(req: FastifyRequest, o: PreviewUrlOptions): URL {
  return new URL(o.publicUrl ?? `${req.protocol}://${req.host}`);
}

/**
 * A share link's URL. With a preview domain, the host form (its own origin per workspace and port;
 * the secret is exchanged for a host-only cookie on the first visit, so a dev server's absolute
 * paths work); without one, the secret is the first path segment (relative URLs only).
 */
export function shareUrl(req: FastifyRequest, o: PreviewUrlOptions, id: string, port: number, secret: string): string {
  const base = baseOf(req, o);
  if (o.domain) return `${base.protocol}//${port}-${id}.${o.domain}${base.port ? `:${base.port}` : ''}/?${SHARE_QUERY}=${secret}`;
  return `${base.origin}${base.pathname.replace(/\/$/, '')}${SHARE_PATH_PREFIX}${secret}/`;
}
