import type { Logger } from '@berth/service-kit';
import type { AgentConnection } from './agent-connection.js';
import type { AgentDirs } from './agent-dirs.js';
import { AGENT_LIMITS, AgentListener, type AgentLimits } from './agent-listener.js';

/** pool-manager's agent listeners, one per workspace of this host, with their directories. */
export class AgentRegistry {
  private readonly listeners = new Map<string, AgentListener>();
  /** Workspaces whose directory is not ours (earlier layout): warned about once. */
  private readonly refused = new Set<string>();

  constructor(
    readonly dirs: AgentDirs,
    private readonly logger: Logger,
    private readonly limits: AgentLimits = AGENT_LIMITS,
  ) {}

  /** A new (or recreated) workspace: a fresh directory with pool-manager listening in it; returns the host path to mount. */
  async create(id: string): Promise<string> {
    this.close(id);
    const dir = await this.dirs.create(id);
    await this.listen(id);
    return dir;
  }

  /** A workspace that exists already (pool-manager restarted): listens again in its directory, when that is ours. */
  async adopt(id: string): Promise<void> {
    if (this.known(id)) return;
    if (!(await this.dirs.owned(id))) {
      this.refused.add(id);
      this.logger.warn({ id }, "agent directory missing or not pool-manager's own; commands use docker exec");
      return;
    }
    await this.listen(id).catch((err: unknown) => this.logger.warn({ err, id }, 'agent listener not started; commands use docker exec'));
  }

  /** True when the workspace has a listener, or was refused one. */
  known(id: string): boolean {
    return this.listeners.has(id) || this.refused.has(id);
  }

  /** Stops listening and removes the directory (the LLM key file in it too). */
  async remove(id: string): Promise<void> {
    this.close(id);
    this.refused.delete(id);
    await this.dirs.remove(id);
  }

  /** An idle connection of the workspace's agent, or undefined (no agent: use `docker exec`). */
  take(id: string, waitMs: number): Promise<AgentConnection | undefined> {
    return this.listeners.get(id)?.take(waitMs) ?? Promise.resolve(undefined);
  }

  /** True once the workspace's agent has connected and greeted, within `timeoutMs`. */
  async waitIdle(id: string, timeoutMs: number): Promise<boolean> {
    return (await this.listeners.get(id)?.waitIdle(timeoutMs)) ?? false;
  }

  /** Workspace ids that have a directory. */
  list(): Promise<string[]> {
    return this.dirs.list();
  }

  closeAll(): void {
    for (const id of [...this.listeners.keys()]) this.close(id);
  }

  private async listen(id: string): Promise<void> {
    const listener = new AgentListener(this.dirs.socketPath(id), this.limits);
    this.listeners.set(id, listener);
    try {
      await listener.listen();
    } catch (err) {
      if (this.listeners.get(id) === listener) this.listeners.delete(id);
      listener.close();
      throw err;
    }
  }

  private close(id: string): void {
    this.listeners.get(id)?.close();
    this.listeners.delete(id);
  }
}
