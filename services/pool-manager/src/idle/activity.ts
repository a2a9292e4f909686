import type { WorkspaceStore } from '../state/workspace-store.js';

/**
 * What counts as a workspace being in use, besides starting a command: commands, streams and terminals
 * that are still running (held here, in this pool-manager's memory, for as long as they run), and
 * activity seen elsewhere (a followed log stream in the gateway, preview traffic, a caller's keepalive),
 * which `touch` records.
 */
export class Activity {
  private readonly running = new Map<string, number>();

  constructor(private readonly store: WorkspaceStore) {}

  /** Counts the workspace as in use until the returned function is called (once; later calls do nothing). */
  hold(id: string): () => void {
    this.running.set(id, (this.running.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.running.get(id) ?? 1) - 1;
      if (left > 0) this.running.set(id, left);
      else this.running.delete(id);
    };
  }

  /** Whether something held by `hold` is still running in the workspace. */
  busy(id: string): boolean {
    return this.running.has(id);
  }

  /**
   * The one entry point for activity seen outside pool-manager's own processes (a followed log,
   * preview or dev-server traffic): the idle clock starts again. False when the workspace is not claimed.
   */
  touch(id: string): Promise<boolean> {
    return this.store.touch(id);
  }
}
