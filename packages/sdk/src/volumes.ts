import { DeleteVolumeReplySchema, VolumeListSchema, type VolumeList } from '@berth/contracts';
import type { CallOptions } from './options.js';
import type { Transport } from './transport.js';

/** The caller's named volumes (made by `volumeName` on a create); they stay until deleted. */
export class Volumes {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Your volumes with whether a container mounts them, and your limit. */
  list(opts: CallOptions = {}): Promise<VolumeList> {
    return this.#transport.request({ method: 'GET', path: '/api/volumes', schema: VolumeListSchema, idempotent: true }, opts);
  }

  /** Removes a volume and its data; VOLUME_IN_USE while a container mounts it. */
  async delete(name: string, opts: CallOptions = {}): Promise<void> {
    await this.#transport.request(
      { method: 'DELETE', path: `/api/volumes/${encodeURIComponent(name)}`, schema: DeleteVolumeReplySchema, idempotent: true },
      opts,
    );
  }
}
