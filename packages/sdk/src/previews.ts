import { CreatedPreviewSchema, RevokedPreviewSchema, type CreatedPreview } from '@berth/contracts';
import { containerPath } from './container-calls.js';
import type { CallOptions } from './options.js';
import type { Transport } from './transport.js';

/**
 * Preview URLs of a container's published ports (docs/previews.md). `url(port)` is the path form,
 * opened with your API key (`Authorization` header); `share()` makes a link that works without a
 * key until it expires or is revoked.
 */
export class Previews {
  readonly #transport: Transport;
  readonly #id: string;

  constructor(transport: Transport, id: string) {
    this.#transport = transport;
    this.#id = id;
  }

  /** The path-form URL of `port` (and `path` in it), for requests that carry your API key. */
  url(port: number, path = '/'): string {
    return `${this.#transport.url}${containerPath(this.#id)}/preview/${port}${path.startsWith('/') ? path : `/${path}`}`;
  }

  /** A link that opens `port` without an API key for `expiresInSeconds` (1 h by default, at most 7 days). */
  share(body: { port: number; expiresInSeconds?: number }, opts: CallOptions = {}): Promise<CreatedPreview> {
    // Not idempotent: a retried create would mint a second link.
    return this.#transport.request(
      { method: 'POST', path: `${containerPath(this.#id)}/previews`, body, schema: CreatedPreviewSchema, ok: [201], idempotent: false },
      opts,
    );
  }

  /** Revokes a share link at once (PREVIEW_NOT_FOUND when unknown, expired or already revoked). */
  async revoke(previewId: string, opts: CallOptions = {}): Promise<void> {
    await this.#transport.request(
      { method: 'DELETE', path: `${containerPath(this.#id)}/previews/${encodeURIComponent(previewId)}`, schema: RevokedPreviewSchema, idempotent: true },
      opts,
    );
  }
}
