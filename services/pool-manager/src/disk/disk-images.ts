import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError } from '@berth/contracts';
import type { PoolManagerConfig } from '../config.js';
import { DISK_SCRIPT } from './disk-script.js';

const run = promisify(execFile);
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const DEVICE = /^\/dev\/loop\d+$/;

/** The engine volume options that mount a workspace's disk image (Docker's local driver mounts it). */
export const diskVolumeOptions = (device: string) => ({ type: 'ext4', device });

/**
 * Per-workspace ext4 images on loop devices under WORKSPACE_DISK_DIR (docs/limits.md): the way
 * `diskMb` holds on overlay2 over ext4, where Docker's `--storage-opt size` and project quotas are
 * not available. Stateless: the image file `<dir>/<id>.img` is the record of a workspace's disk.
 *
 * Order matters for safety: a loop device is detached only after the Docker volume naming it is
 * gone, else a later workspace attached to the same /dev/loopN would mount through the old volume.
 */
export class DiskImages {
  private readonly dir: string;

  constructor(config: Pick<PoolManagerConfig, 'WORKSPACE_DISK_DIR'>) {
    this.dir = config.WORKSPACE_DISK_DIR;
  }

  get enabled(): boolean {
    return this.dir !== '';
  }

  /** Makes and attaches a `mb` MiB filesystem for workspace `id`; returns its loop device. */
  async create(id: string, mb: number): Promise<string> {
    if (!this.enabled) throw new BerthError('LIMIT_UNSUPPORTED', 'this host has no disk limits (WORKSPACE_DISK_DIR is not set): create without diskMb');
    const out = await this.script('create', id, String(mb)).catch((err: unknown) => {
      if (/No space left|ENOSPC/i.test(String((err as { stderr?: string }).stderr ?? err))) {
        throw new BerthError('CAPACITY_EXHAUSTED', `this host has no room for a ${mb} MiB workspace disk`, { retryAfterSeconds: 30, cause: err });
      }
      throw err;
    });
    const device = out.trim();
    if (!DEVICE.test(device)) throw new Error(`disk helper printed no loop device for ${id}`);
    return device;
  }

  /** True when workspace `id` has a disk image (a plain file test: cheap on every delete). */
  has(id: string): boolean {
    return this.enabled && ID.test(id) && existsSync(join(this.dir, `${id}.img`));
  }

  /** The size of `id`'s disk image in MiB (0 when it has none). */
  async sizeMb(id: string): Promise<number> {
    if (!this.has(id)) return 0;
    return Math.floor((await stat(join(this.dir, `${id}.img`))).size / (1024 * 1024));
  }

  /** Detaches and deletes `id`'s disk; call only once its volume is removed. Succeeds when none. */
  async remove(id: string): Promise<void> {
    if (this.has(id)) await this.script('remove', id);
  }

  /** Workspace ids with a disk image on this host. */
  async list(): Promise<string[]> {
    if (!this.enabled || !existsSync(this.dir)) return [];
    return (await this.script('list')).split('\n').filter((id) => ID.test(id));
  }

  private async script(cmd: string, id?: string, ...rest: string[]): Promise<string> {
    if (id !== undefined && !ID.test(id)) throw new Error(`not a workspace id: ${id}`);
    const args = id === undefined ? [cmd, this.dir] : [cmd, this.dir, id, ...rest];
    const { stdout } = await run('sh', ['-c', DISK_SCRIPT, 'berth-disk', ...args], { timeout: 60_000 });
    return stdout;
  }
}
