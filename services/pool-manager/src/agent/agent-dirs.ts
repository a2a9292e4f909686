import { chmod, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@berth/service-kit';

/** Where each workspace sees its agent directory, read-only. */
export const AGENT_MOUNT = '/run/berth';
const SOCKET = 'agent.sock';
const ID = /^ws_[0-9a-z_-]+$/;

/**
 * The per-workspace host directories of the agent channel: `<root>/<hostId>/<id>`, pool-manager's
 * own (0755, its uid) and mounted read-only into the workspace, which can therefore neither swap
 * the socket pool-manager listens on nor plant anything next to it. The host-id level is private
 * to pool-manager (0700): on the host only it reaches a workspace's socket.
 */
export class AgentDirs {
  private constructor(
    private readonly root: string,
    private readonly uid: number,
  ) {}

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
      return new AgentDirs(root, uid);
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

  /** Creates the workspace's directory afresh: ours, readable (not writable) by the workspace user. */
  async create(id: string): Promise<string> {
    const dir = this.dir(id);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    return dir;
  }

  /**
   * True when the workspace's directory exists and is pool-manager's alone. A directory of the
   * earlier layout (owned by the workspace user, or world-writable) is not: such a workspace keeps
   * using `docker exec` until it is recreated.
   */
  async owned(id: string): Promise<boolean> {
    const st = await lstat(this.dir(id)).catch(() => undefined);
    return st !== undefined && st.isDirectory() && st.uid === this.uid && (st.mode & 0o022) === 0;
  }

  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }

  /** Workspace ids that have a directory. */
  async list(): Promise<string[]> {
    return (await readdir(this.root).catch(() => [])).filter((n) => ID.test(n));
  }
}
