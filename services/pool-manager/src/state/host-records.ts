import type { Redis } from '@berth/service-kit';
import { hostKeys } from './keys.js';
import { fromHash, type WorkspaceRecord } from './workspace-record.js';

/** Every workspace record of a host, read as they are (this host's or another's). */
export async function readHostRecords(redis: Redis, hostId: string): Promise<WorkspaceRecord[]> {
  const keys = hostKeys(hostId);
  const ids = await redis.smembers(keys.all);
  const hashes = await Promise.all(ids.map((id) => redis.hgetall(keys.workspace(id))));
  return hashes.map(fromHash).filter((r): r is WorkspaceRecord => r !== undefined);
}
