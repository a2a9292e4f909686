import { BerthError, type ContainerView, type WorkspaceState } from '@berth/contracts';
import { toView, type WorkspaceRecord } from '../state/workspace-record.js';
import type { WorkspaceStore } from '../state/workspace-store.js';

/** Who may see which workspace: every caller-facing operation starts here. */
export class WorkspaceAccess {
  constructor(private readonly store: WorkspaceStore) {}

  async get(id: string, owner: string): Promise<ContainerView> {
    return toView(await this.visible(id, owner));
  }

  async list(owner: string): Promise<ContainerView[]> {
    const all = await this.store.all();
    return all
      .filter((r) => callerVisible(r.state) && r.owner === owner)
      .sort((a, b) => a.claimedAt - b.claimedAt)
      .map(toView);
  }

  /** The caller's claimed (running or paused) workspace `id`, or CONTAINER_NOT_FOUND. */
  async visible(id: string, owner: string): Promise<WorkspaceRecord> {
    const r = await this.store.get(id);
    // Someone else's workspace is indistinguishable from a missing one.
    if (!r || !callerVisible(r.state) || r.owner !== owner) throw new BerthError('CONTAINER_NOT_FOUND', `no container ${id}`);
    return r;
  }
}

/** What a caller sees of their workspaces: claimed ones, running or paused. */
const callerVisible = (state: WorkspaceState) => state === 'claimed' || state === 'paused';
