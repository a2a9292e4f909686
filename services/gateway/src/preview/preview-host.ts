import { BerthError, WorkspaceIdSchema } from '@berth/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerAuth } from '../auth.js';
import type { KeyRing } from '../keys/api-key.js';
import { requireScope } from '../keys/scopes.js';
import { resolveShare } from '../routes/preview-share.js';
import { forwardPreview, isUpgrade, type PreviewDeps } from './preview-forward.js';
import { PREVIEW_COOKIE } from './preview-headers.js';
import { previewPortOf } from './preview-target.js';
import { SHARE_QUERY } from './preview-urls.js';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sameHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The host form: `<port>-<id>.<domain>` is the workspace's port on an origin of its own, so its
 * cookies and scripts cannot touch the API's origin or another workspace's. Opened with the bearer
 * token (exec scope), or a share link: its first visit carries `?berth_preview_token=`, which is
 * exchanged for a host-only HttpOnly cookie and removed from the address by a redirect.
 * An onRequest hook (runs before routing decisions, body parsing and /api auth).
 */
export function previewHostHook(deps: PreviewDeps, keys: KeyRing, domain: string) {
  const hostRe = new RegExp(`^([^.-]+)-(ws_(?:[a-z0-9][a-z0-9-]{0,39}_)?[0-9a-f]{16})\\.${escapeRegExp(domain.toLowerCase())}(?::\\d+)?$`);
  const bearer = bearerAuth(keys);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const m = hostRe.exec(String(req.headers.host ?? '').toLowerCase());
    if (!m) return undefined;
    // An upgrade answered with an error (this hook runs before @fastify/websocket would close it).
    if (isUpgrade(req)) reply.raw.once('finish', () => req.raw.socket.destroy());
    const id = WorkspaceIdSchema.parse(m[2]);
    const port = previewPortOf(m[1], id);
    const url = new URL(req.raw.url ?? '/', 'http://preview.invalid');
    const offered = url.searchParams.get(SHARE_QUERY);
    if (offered !== null) {
      const link = await resolveShare(deps, offered, req.ip);
      if (link.id !== id || link.port !== port) throw new BerthError('UNAUTHORIZED', 'preview link is unknown, revoked or expired');
      url.searchParams.delete(SHARE_QUERY);
      const maxAge = Math.max(1, Math.floor((Date.parse(link.expiresAt) - Date.now()) / 1000));
      const secure = req.protocol === 'https' ? '; Secure' : '';
      return reply
        .code(303)
        .header('set-cookie', `${PREVIEW_COOKIE}=${offered}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`)
        .header('cache-control', 'no-store')
        .header('location', `${url.pathname}${url.search}`)
        .send();
    }
    let owner: string;
    if (req.headers.authorization !== undefined) {
      await bearer(req);
      requireScope(req.apiKey?.scopes ?? new Set(), 'POST', '/api/containers/:id/exec');
      owner = req.owner;
    } else {
      // The cookie is ambient: a WebSocket (outside CORS) opened by another page with it is refused.
      if (isUpgrade(req) && req.headers.origin !== undefined && !sameHost(req.headers.origin, String(req.headers.host))) {
        throw new BerthError('ORIGIN_NOT_ALLOWED', "a preview's WebSocket opens only from its own page");
      }
      const link = await resolveShare(deps, cookieValue(req.headers.cookie, PREVIEW_COOKIE), req.ip);
      if (link.id !== id || link.port !== port) throw new BerthError('UNAUTHORIZED', 'preview link is unknown, revoked or expired');
      owner = link.owner;
    }
    return forwardPreview(deps, req, reply, { form: 'host', id, owner, port, path: req.raw.url ?? '/' });
  };
}
