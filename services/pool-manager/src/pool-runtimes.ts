import type { PoolConfig } from '@berth/contracts';
import type { WorkloadDriver } from './driver/workload-driver.js';

/**
 * Fails pool-manager's start when a pool names an OCI runtime the engine does not have:
 * otherwise every create of that pool would fail at the engine, long after the operator left.
 */
export async function checkPoolRuntimes(pools: readonly PoolConfig[], driver: Pick<WorkloadDriver, 'runtimes'>): Promise<void> {
  const wanted = pools.filter((p) => p.runtime !== undefined);
  if (wanted.length === 0) return;
  const known = await driver.runtimes();
  const missing = wanted.filter((p) => !known.includes(p.runtime ?? ''));
  if (missing.length === 0) return;
  const named = missing.map((p) => `pool "${p.name}" names OCI runtime "${p.runtime}"`).join(', ');
  throw new Error(
    `${named}, which the Docker engine does not have (it has: ${known.join(', ') || 'none'}); ` +
      'register it in the engine\'s daemon.json "runtimes" and reload dockerd, or remove the pool\'s runtime',
  );
}
