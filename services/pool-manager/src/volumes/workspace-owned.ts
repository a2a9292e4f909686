import type { PoolManagerConfig } from '../config.js';
import { LABELS, type WorkloadDriver } from '../driver/workload-driver.js';

/**
 * Makes a volume (a new npm cache) owned by the workspace user: Docker gives a new or empty volume
 * the owner of the image directory it is first mounted on, and /workspace belongs to uid 1000.
 * (Mounted first under the /home/berth tmpfs, it would stay root's.) Harmless on a volume in use.
 */
export async function makeWorkspaceOwned(driver: WorkloadDriver, config: Pick<PoolManagerConfig, 'SETUP_TASK_IMAGE' | 'BERTH_HOST_ID'>, name: string): Promise<void> {
  const result = await driver.runTask({
    image: config.SETUP_TASK_IMAGE,
    argv: ['test', '-w', '/workspace'],
    labels: { [LABELS.task]: 'volume-init', [LABELS.host]: config.BERTH_HOST_ID },
    mounts: [{ type: 'volume', source: name, target: '/workspace', readOnly: false }],
    timeoutMs: 30_000,
    maxOutputBytes: 1024,
  });
  if (result.exitCode !== 0) throw new Error(`volume ${name} is not writable by the workspace user`);
}
