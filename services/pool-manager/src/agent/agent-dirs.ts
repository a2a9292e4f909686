import { chmod, chown, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@berth/service-kit';
import { WORKSPACE_UID } from '../driver/docker-spec.js';

/** Where the agent listens inside every workspace; the directory is what pool-manager mounts. */
export const AGENT_MOUNT = '/run/berth';
const SOCKET = 'agent.sock';
const ID = /^ws_[0-9a-z]+$/;

/**
 * The per-workspace host directories the agents' sockets live in: `<root>/<hostId>/<id>`. The
 * host-id level is private to pool-manager (0700), so only it reaches a socket on the host; each
 * workspace sees only its own directory (bind-mounted at /run/berth), owned by the workspace user.
 */
export class AgentDirs {
  private constructor(private readonly root: string, private readonly canChown: boolean) {}

  /** Undefined (agents off, `docker exec` for everything) when `base` is unusable or unsafe. */
  static async open(base: string, hostId: string, logger: Logger): Promise<AgentDirs | undefined> {
    const root = join(base, hostId);
    try {
      await mkdir(root, { recursive: true, mode: 0o700 });
      const st = await lstat(root);
      const uid = process.getuid?.() ?? -1;
      // Someone else's directory (say, made in /tmp before us) could hand our sockets to them.
      if (!st.isDirectory() || st.uid !== uid) throw new Error(`${root} is not a directory of uid ${uid}`);
      await chmod(root, 0o700);
      return new AgentDirs(root, uid === 0);
    } catch (err) {
      logger.warn({ err, root }, 'agent socket directory unusable; commands use docker exec');
      return undefined;
    }
  }

  dir(id: string): string {
    if (!ID.test(id)) throw new Error(`bad workspace id ${id}`);
    return join(this.root, id);
  }

  socketPath(id: string): string {
    return join(this.dir(id), SOCKET);
  }

  /** Creates the workspace's directory, writable by the workspace user only (or by all where we cannot chown). */
  async create(id: string): Promise<string> {
    const dir = this.dir(id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (this.canChown) await chown(dir, WORKSPACE_UID, WORKSPACE_UID);
    else await chmod(dir, 0o777);
    return dir;
  }

  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }

  /** Workspace ids that have a directory. */
  async list(): Promise<string[]> {
    return (await readdir(this.root).catch(() => [])).filter((n) => ID.test(n));
  }
}
