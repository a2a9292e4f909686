import { z } from 'zod';
import { ContainerPortSchema, WorkspaceIdSchema } from './names.js';

/** Share links live at most this long (7 days); a caller asks for less. */
export const PREVIEW_LINK_MAX_SECONDS = 7 * 24 * 3600;
export const PREVIEW_LINK_DEFAULT_SECONDS = 3600;

/** 32 random bytes, base64url: the part of a share link that opens it. Stored only as its SHA-256. */
export const PreviewSecretSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a berth preview secret');
/** A share link's public id (for revoking and listing); it opens nothing. */
export const PreviewIdSchema = z
  .string()
  .regex(/^pv_[0-9a-f]{16}$/, 'must look like pv_ followed by 16 hex characters')
  .meta({ id: 'PreviewId', example: 'pv_0c2b7d1e4a563f9a' });

/** POST /api/containers/:id/previews */
export const CreatePreviewBodySchema = z
  .strictObject({
    port: ContainerPortSchema,
    expiresInSeconds: z.number().int().min(1).max(PREVIEW_LINK_MAX_SECONDS).default(PREVIEW_LINK_DEFAULT_SECONDS),
  })
  .meta({ id: 'CreatePreviewBody' });
export type CreatePreviewBody = z.infer<typeof CreatePreviewBodySchema>;

/** What a share link is, without its secret (which only the create reply carries, in `url`). */
export const PreviewLinkSchema = z
  .object({ previewId: PreviewIdSchema, id: WorkspaceIdSchema, port: ContainerPortSchema, expiresAt: z.iso.datetime() })
  .meta({ id: 'PreviewLink' });
export type PreviewLink = z.infer<typeof PreviewLinkSchema>;

/** The create reply: `url` opens the preview without an API key until `expiresAt` or a revoke. */
export const CreatedPreviewSchema = PreviewLinkSchema.extend({ url: z.string() }).meta({ id: 'CreatedPreview' });
export type CreatedPreview = z.infer<typeof CreatedPreviewSchema>;

export const PreviewParamsSchema = z.strictObject({ id: WorkspaceIdSchema, previewId: PreviewIdSchema });

export const RevokedPreviewSchema = z.object({ previewId: PreviewIdSchema, revoked: z.literal(true) }).meta({ id: 'RevokedPreview' });
export type RevokedPreview = z.infer<typeof RevokedPreviewSchema>;

/** NATS: pool-manager mints the secret, keeps its hash (Redis, with the link's TTL) and returns it once. */
export const PreviewLinkCreateRequestSchema = z.object({
  id: WorkspaceIdSchema,
  owner: z.string().min(1).max(100),
  port: ContainerPortSchema,
  expiresInSeconds: z.number().int().min(1).max(PREVIEW_LINK_MAX_SECONDS),
});
export const PreviewLinkCreateReplySchema = PreviewLinkSchema.extend({ secret: PreviewSecretSchema });
export type PreviewLinkCreateReply = z.infer<typeof PreviewLinkCreateReplySchema>;

/** NATS: look a secret up by its hash; unknown, revoked or expired is UNAUTHORIZED. Not consumed. */
export const PreviewLinkResolveRequestSchema = z.object({ secret: PreviewSecretSchema });
export const PreviewLinkResolveReplySchema = PreviewLinkSchema.extend({ owner: z.string() });
export type PreviewLinkResolveReply = z.infer<typeof PreviewLinkResolveReplySchema>;

export const PreviewLinkRevokeRequestSchema = z.object({ id: WorkspaceIdSchema, owner: z.string().min(1).max(100), previewId: PreviewIdSchema });
