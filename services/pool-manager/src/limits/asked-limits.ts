import type { CreateContainerRequest, PoolConfig } from '@berth/contracts';

/**
 * The pool a create's limits make of its pool: its cpus and memory as asked. A warm container has
 * its pool's limits and Docker's default volume, so only a create asking for nothing else may be
 * handed one; any other is a cold create with exactly what was asked (docs/limits.md), and its
 * memory is what the host budget counts.
 */
export function withAskedLimits(pool: PoolConfig, req: Pick<CreateContainerRequest, 'cpus' | 'memoryMb' | 'diskMb'>): { pool: PoolConfig; warmFits: boolean } {
  const cpus = req.cpus ?? pool.cpus;
  const memoryMb = req.memoryMb ?? pool.memoryMb;
  const warmFits = cpus === pool.cpus && memoryMb === pool.memoryMb && req.diskMb === undefined;
  return { pool: warmFits ? pool : { ...pool, cpus, memoryMb }, warmFits };
}
