import { createHash, randomBytes } from 'node:crypto';
import { BerthError, type PreviewLinkCreateReply, type PreviewLinkResolveReply, type RevokedPreview } from '@berth/contracts';
import type { Redis } from '@berth/service-kit';
import type { WorkspaceAccess } from '../workspaces/access.js';

/** Not host-scoped, like tickets: any pool-manager resolves a link another minted, for any gateway. */
const secretKey = (secret: string) => `berth:preview:secret:${createHash('sha256').update(secret).digest('hex')}`;
const idKey = (previewId: string) => `berth:preview:id:${previewId}`;

interface Held {
  previewId: string;
  id: string;
  owner: string;
  port: number;
  expiresAt: string;
}

/**
 * Share links of preview URLs. The secret is returned once and stored only as its SHA-256, so a
 * lookup is by hash (no comparison of secrets, hence nothing to time); both keys carry the link's
 * expiry as their TTL, so an expired link is simply absent. A revoke deletes both keys.
 */
export class PreviewLinks {
  constructor(
    private readonly redis: Redis,
    private readonly workspaces: WorkspaceAccess,
  ) {}

  async create(id: string, owner: string, port: number, expiresInSeconds: number): Promise<PreviewLinkCreateReply> {
    const view = await this.workspaces.get(id, owner);
    if (view.ports[String(port)] === undefined) throw notPublished(id, port);
    const secret = randomBytes(32).toString('base64url');
    const previewId = `pv_${randomBytes(8).toString('hex')}`;
    const expiresAt = new Date(Date.now() + expiresInSeconds * 1000).toISOString();
    const held: Held = { previewId, id, owner, port, expiresAt };
    const hash = secretKey(secret);
    await this.redis
      .multi()
      .set(hash, JSON.stringify(held), 'EX', expiresInSeconds)
      .set(idKey(previewId), JSON.stringify({ ...held, hash }), 'EX', expiresInSeconds)
      .exec();
    return { previewId, id, port, expiresAt, secret };
  }

  async resolve(secret: string): Promise<PreviewLinkResolveReply> {
    const raw = await this.redis.get(secretKey(secret));
    if (!raw) throw new BerthError('UNAUTHORIZED', 'preview link is unknown, revoked or expired');
    const held = JSON.parse(raw) as Held;
    return { previewId: held.previewId, id: held.id, owner: held.owner, port: held.port, expiresAt: held.expiresAt };
  }

  async revoke(id: string, owner: string, previewId: string): Promise<RevokedPreview> {
    const raw = await this.redis.get(idKey(previewId));
    const held = raw ? (JSON.parse(raw) as Held & { hash: string }) : undefined;
    // Another owner's or another container's link is answered exactly like an unknown one.
    if (!held || held.owner !== owner || held.id !== id) throw new BerthError('PREVIEW_NOT_FOUND', `no preview link ${previewId} on ${id}`);
    await this.redis.del(held.hash, idKey(previewId));
    return { previewId, revoked: true };
  }
}

function notPublished(id: string, port: number): BerthError {
  return new BerthError('PREVIEW_PORT_NOT_PUBLISHED', `container ${id} does not publish port ${port}`);
}
