import { BerthError, type CreateContainerBody } from '@berth/contracts';
import type { HostDirectory } from './host-view.js';

/** The HOST_UNAVAILABLE of a create whose host was lost while it was in flight. */
export class HostLostInFlight extends BerthError {
  constructor(readonly hostId: string) {
    super('HOST_UNAVAILABLE', `the Docker host ${hostId} stopped answering while the workspace was being made; retry later`, { retryAfterSeconds: 5 });
  }
}

/**
 * `work` (a request to `hostId`), or HOST_UNAVAILABLE as soon as the directory counts that host
 * lost, instead of waiting for the request's timeout.
 */
export async function unlessHostLost<T>(directory: HostDirectory, hostId: string, work: Promise<T>): Promise<T> {
  let stop = () => undefined as void;
  const lost = new Promise<never>((_, reject) => {
    stop = directory.onLost((id) => {
      if (id === hostId) reject(new HostLostInFlight(hostId));
    });
  });
  try {
    return await Promise.race([work, lost]);
  } finally {
    stop();
  }
}

/**
 * Whether a create cut off by its host's loss may be made on another host: the lost host may have
 * made it already (it comes back `recovered`, owned by the caller, and is reaped when idle). That
 * is harmless for an anonymous workspace, not for a named one or one on a named volume (the
 * name or the volume's data would then exist twice): those are answered HOST_UNAVAILABLE.
 */
export const safeElsewhere = (body: Pick<CreateContainerBody, 'name' | 'volumeName'>): boolean => body.name === undefined && body.volumeName === undefined;
