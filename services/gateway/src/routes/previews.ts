import { BerthError, CreatedPreviewSchema, CreatePreviewBodySchema, PreviewParamsSchema, RevokedPreviewSchema } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { API_ERRORS, BODY_ERRORS, ID_PARAMS, errorResponses, okResponse, ref } from '../openapi.js';
import { forwardPreview, isUpgrade, pathAfter, type PreviewDeps } from '../preview/preview-forward.js';
import { previewPortOf } from '../preview/preview-target.js';
import { shareUrl, type PreviewUrlOptions } from '../preview/preview-urls.js';
import { callOptions, containerIdOf, parseBody, type RouteDeps } from './common.js';

export const PREVIEW_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export type PreviewRouteDeps = RouteDeps & PreviewDeps & { urls: PreviewUrlOptions };

/** Preview URLs of a caller's container: the path-form proxy and share links (docs/previews.md). */
export const previewRoutes: FastifyPluginAsync<PreviewRouteDeps> = async (app, deps) => {
  const { backend, requestTimeoutMs } = deps;

  app.post(
    '/containers/:id/previews',
    {
      schema: {
        operationId: 'createPreviewLink',
        tags: ['previews'],
        summary: 'Make a share link for a published port',
        description:
          "The link opens the port's preview without an API key until `expiresAt` or a revoke. Its secret is in `url` only (stored hashed, never logged).",
        params: ID_PARAMS,
        body: ref(CreatePreviewBodySchema),
        response: {
          201: okResponse(CreatedPreviewSchema, 'The link'),
          ...errorResponses('CONTAINER_NOT_FOUND', 'PREVIEW_PORT_NOT_PUBLISHED', ...BODY_ERRORS, ...API_ERRORS),
        },
      },
    },
    async (req, reply) => {
      const id = containerIdOf(req.params);
      const body = parseBody(CreatePreviewBodySchema, req);
      const { secret, ...link } = await backend.request('previewLinkCreate', { id, owner: req.owner, ...body }, callOptions(req, requestTimeoutMs));
      return reply.code(201).send({ ...link, url: shareUrl(req, deps.urls, id, body.port, secret) });
    },
  );

  app.delete(
    '/containers/:id/previews/:previewId',
    {
      schema: {
        operationId: 'revokePreviewLink',
        tags: ['previews'],
        summary: 'Revoke a share link',
        description: 'The link stops working at once.',
        params: { type: 'object', properties: { id: ID_PARAMS.properties.id, previewId: { type: 'string' } }, required: ['id', 'previewId'] },
        response: { 200: okResponse(RevokedPreviewSchema, 'Revoked'), ...errorResponses('CONTAINER_NOT_FOUND', 'PREVIEW_NOT_FOUND', ...API_ERRORS) },
      },
    },
    async (req) => {
      const parsed = PreviewParamsSchema.safeParse(req.params);
      if (!parsed.success) throw new BerthError('PREVIEW_NOT_FOUND', 'no such preview link');
      return backend.request('previewLinkRevoke', { ...parsed.data, owner: req.owner }, callOptions(req, requestTimeoutMs));
    },
  );

  // The proxy: the body is the workspace's business, so it is never parsed here, only piped.
  await app.register(async (proxy) => {
    proxy.removeAllContentTypeParsers();
    proxy.addContentTypeParser('*', (_req, _payload, done) => {
      done(null, undefined);
    });
    proxy.route({
      method: [...PREVIEW_METHODS],
      url: '/containers/:id/preview/:port/*',
      schema: {
        operationId: 'proxyPreview',
        tags: ['previews'],
        summary: 'Proxy to a published port of the container (HTTP and WebSocket)',
        description:
          "Path form with the caller's API key. The workspace sees `Host: localhost:<port>`, never berth's credentials or cookies; its answers carry a sandbox CSP and no Set-Cookie (docs/previews.md).",
        params: ID_PARAMS,
        response: errorResponses('CONTAINER_NOT_FOUND', 'PREVIEW_PORT_NOT_PUBLISHED', 'PREVIEW_UPSTREAM_UNREACHABLE', ...API_ERRORS),
      },
      // Upgrades are taken over here, before @fastify/websocket's handler would answer them itself.
      preHandler: async (req, reply) => {
        if (!isUpgrade(req)) return;
        await proxyOwn(req, reply);
      },
      handler: async (req, reply) => proxyOwn(req, reply),
    });
  });

  function proxyOwn(req: Parameters<typeof forwardPreview>[1], reply: Parameters<typeof forwardPreview>[2]) {
    const params = req.params as { id?: unknown; port?: unknown };
    const id = containerIdOf({ id: params.id });
    const port = previewPortOf(params.port, id);
    // /api/containers/:id/preview/:port → five segments before the workspace's path.
    return forwardPreview(deps, req, reply, { form: 'path', id, owner: req.owner, port, path: pathAfter(req.raw.url ?? '/', 5) });
  }
};
