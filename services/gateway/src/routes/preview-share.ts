import { BerthError, PreviewSecretSchema } from '@berth/contracts';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { forwardPreview, isUpgrade, pathAfter, type PreviewDeps } from '../preview/preview-forward.js';
import { PREVIEW_METHODS } from './previews.js';

/** A share-link secret to the link it opens (container, owner, port); unknown, revoked or expired is 401. */
export async function resolveShare(
  deps: PreviewDeps,
  secret: unknown,
  source: string,
): Promise<{ id: string; owner: string; port: number; expiresAt: string }> {
  const parsed = PreviewSecretSchema.safeParse(secret);
  const lookup = async () => {
    if (!parsed.success) throw new BerthError('UNAUTHORIZED', 'preview link is unknown, revoked or expired');
    return deps.backend.request('previewLinkResolve', { secret: parsed.data }, { timeoutMs: deps.requestTimeoutMs });
  };
  return deps.shareGuard ? deps.shareGuard.resolve(source, typeof secret === 'string' ? secret : '', lookup) : lookup();
}

/**
 * Path-form share links, public (no API key): `/preview/s/<secret>/<path>`. The secret is the
 * credential, so the request line is logged with it redacted (service-kit redactUrl).
 */
export const previewShareRoutes: FastifyPluginAsync<PreviewDeps> = async (app, deps) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => {
    done(null, undefined);
  });
  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    const link = await resolveShare(deps, (req.params as { secret?: unknown }).secret, req.ip);
    // /preview/s/<secret> → three segments before the workspace's path.
    return forwardPreview(deps, req, reply, { form: 'path', id: link.id, owner: link.owner, port: link.port, path: pathAfter(req.raw.url ?? '/', 3) });
  };
  app.route({
    method: [...PREVIEW_METHODS],
    url: '/preview/s/:secret/*',
    schema: { hide: true },
    // The secret in the path is the credential, nothing ambient a foreign page could ride on; a
    // sandboxed preview page's WebSocket comes with Origin `null`.
    config: { anyOrigin: true },
    preHandler: async (req, reply) => {
      if (!isUpgrade(req)) return;
      await handle(req, reply);
    },
    handler: handle,
  });
};
