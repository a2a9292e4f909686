import type { EventPublisher } from '../events.js';
import type { FileWatch, WatchEndReason } from './file-watch.js';

/** The files watches of this host's workspaces, by watch id (pool-manager is one per host). */
export class FileWatches {
  private readonly byId = new Map<string, FileWatch>();

  get(id: string): FileWatch | undefined {
    return this.byId.get(id);
  }

  add(watch: FileWatch): void {
    this.byId.set(watch.id, watch);
  }

  delete(watch: FileWatch): void {
    if (this.byId.get(watch.id) === watch) this.byId.delete(watch.id);
  }

  /** Watches of a workspace, those waiting for a resume included. */
  count(workspace: string): number {
    let n = 0;
    for (const w of this.byId.values()) if (w.key.workspace === workspace) n += 1;
    return n;
  }

  /** Ends every watch of a workspace with an `end` event. */
  end(workspace: string, reason: WatchEndReason): void {
    for (const w of [...this.byId.values()]) if (w.key.workspace === workspace) w.end(reason);
  }

  /** pool-manager stops: every stream ends, every agent watch is released. */
  closeAll(): void {
    for (const w of [...this.byId.values()]) {
      w.end('stopped');
      w.release();
    }
  }
}

/** Lifecycle events end the workspace's watches first: a paused agent is frozen and would stay silent, a removed one is gone. */
export function endingWatches(inner: EventPublisher, watches: FileWatches): EventPublisher {
  return {
    publish(id, kind, ...rest) {
      if (kind === 'paused') watches.end(id, 'paused');
      else if (kind === 'removed') watches.end(id, 'deleted');
      inner.publish(id, kind, ...rest);
    },
  };
}
