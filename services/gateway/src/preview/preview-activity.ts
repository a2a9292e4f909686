import type { Backend } from '../backend.js';
import type { Logger } from '@berth/service-kit';

/** Default: at most one keepalive per workspace every 30 s, far below any idle timeout. */
const PREVIEW_ACTIVITY_EVERY_MS = 30_000;

/**
 * Preview traffic counts as activity for the idle reaper without a NATS round trip per request:
 * the first request of a workspace in each window sends one keepalive, in the background.
 */
export class PreviewActivity {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly backend: Backend,
    private readonly logger: Logger | undefined,
    private readonly everyMs = PREVIEW_ACTIVITY_EVERY_MS,
  ) {}

  touch(id: string, owner: string): void {
    const now = Date.now();
    if (now - (this.last.get(id) ?? -Infinity) < this.everyMs) return;
    this.last.set(id, now);
    if (this.last.size > 10_000) this.forgetOlderThan(now - this.everyMs);
    this.backend.request('containerKeepalive', { id, owner }).catch((err: unknown) => {
      this.last.delete(id);
      this.logger?.debug({ err, id }, 'preview keepalive failed');
    });
  }

  private forgetOlderThan(t: number): void {
    for (const [id, at] of this.last) if (at < t) this.last.delete(id);
  }
}
