import type { Logger } from '@berth/service-kit';
import type { ContainerInfo, ContainerSource } from './container-source.js';
import { followContainer, type FollowOptions } from './follower.js';
import type { LogStore } from './log-store.js';

export interface StreamerOptions extends FollowOptions {
  hostId: string;
  rescanIntervalMs: number;
}

/**
 * Keeps one follower per berth container of this host: containers announced by Docker's start
 * events, and anything a periodic list finds that is not being followed (missed events, a
 * follower that failed, a container that stopped before we saw it).
 */
export class LogStreamer {
  private readonly active = new Map<string, Promise<void>>();
  /** Stopped containers whose output was read to the end; not reread until they start again. */
  private readonly finished = new Set<string>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private watching: Promise<void> | undefined;

  constructor(
    private readonly source: ContainerSource,
    private readonly store: LogStore,
    private readonly opts: StreamerOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.watching = this.watchLoop();
    await this.rescan();
    this.timer = setInterval(() => {
      this.rescan().catch((err: unknown) => this.logger.warn({ err }, 'rescan failed'));
    }, this.opts.rescanIntervalMs);
  }

  get following(): number {
    return this.active.size;
  }

  async rescan(): Promise<void> {
    const list = await this.source.list(this.opts.hostId);
    const refs = new Set(list.map((c) => c.ref));
    for (const ref of this.finished) if (!refs.has(ref)) this.finished.delete(ref);
    for (const c of list) this.ensure(c);
  }

  ensure(c: ContainerInfo): void {
    if (this.abort.signal.aborted || this.active.has(c.ref)) return;
    if (c.running) this.finished.delete(c.ref);
    else if (this.finished.has(c.ref)) return;
    const run = followContainer(c, this.source, this.store, this.opts, this.abort.signal)
      .then(
        () => {
          if (!c.running) this.finished.add(c.ref);
        },
        (err: unknown) => {
          // Removed while we looked at it: nothing left to read.
          if ((err as { statusCode?: number } | null)?.statusCode === 404) return;
          this.logger.warn({ err, workspaceId: c.workspaceId }, 'following container output failed; retried on the next rescan');
        },
      )
      .finally(() => this.active.delete(c.ref));
    this.active.set(c.ref, run);
  }

  private async watchLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        await this.source.watchStarts(this.opts.hostId, (c) => this.ensure(c), signal);
      } catch (err) {
        if (!signal.aborted) this.logger.warn({ err }, 'docker events failed; reconnecting');
      }
      if (!signal.aborted) await new Promise((r) => setTimeout(r, 1_000));
    }
  }

  /** Stops reading, waits for every follower to flush what it read. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.timer);
    await Promise.allSettled([...this.active.values(), this.watching]);
  }
}
