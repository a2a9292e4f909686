import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorBodySchema, FileWatchEventSchema, httpStatusOf, type FileWatchEvent } from '@berth/contracts';
import { containerPath } from './container-calls.js';
import { BerthApiError, BerthResponseError, type CallSite } from './errors.js';
import { sseEventsOf } from './lines.js';
import { isDrop, LOGS_RECONNECT } from './logs.js';
import { callSignal } from './signals.js';
import { classify, type Transport } from './transport.js';

export interface WatchOptions {
  /** The whole tree below the directory (never into a symlink), not only its entries. */
  recursive?: boolean;
  /** Ends the iteration; the loop then throws BerthAbortError. */
  signal?: AbortSignal;
  /** Resume after this event id (`event.id` of an earlier iteration). */
  after?: string;
  /** Reconnects after a dropped connection with Last-Event-ID (the gateway replays what was missed, or sends `reset`). */
  reconnect?: { attempts?: number; delayMs?: number; maxDelayMs?: number };
}

/** One event of a files watch with its id (docs/files.md "Watch"). */
export type WatchEvent = FileWatchEvent & { id: string };

/**
 * `container.files.watch()`: the directory's changes as they happen. Ends after an `end` event
 * (the workspace was paused or deleted, the directory removed); a dropped connection is resumed.
 */
export async function* watchFiles(transport: Transport, id: string, path: string, opts: WatchOptions = {}): AsyncGenerator<WatchEvent> {
  const route = `${containerPath(id)}/files/watch?path=${encodeURIComponent(path)}${opts.recursive ? '&recursive=true' : ''}`;
  const site: CallSite = { method: 'GET', path: route };
  const sig = callSignal(undefined, opts.signal);
  const policy = { ...LOGS_RECONNECT, ...opts.reconnect };
  let lastId = opts.after;
  let failures = 0;
  for (;;) {
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...(lastId !== undefined && { 'last-event-id': lastId }) };
      const res = await transport.open({ method: 'GET', path: route, headers }, sig);
      if (!res.body) throw new BerthResponseError(site, res.status, 'no body');
      for await (const e of sseEventsOf(res.body)) {
        const data = parse(e.data);
        if (e.event === 'error') {
          const body = ErrorBodySchema.safeParse(data);
          if (!body.success) throw new BerthResponseError(site, res.status, 'an error event does not match ErrorBody');
          throw new BerthApiError(body.data, httpStatusOf(body.data.error.code), site);
        }
        const parsed = FileWatchEventSchema.safeParse(data);
        if (!parsed.success || e.id === undefined) throw new BerthResponseError(site, res.status, 'a watch event does not match FileWatchEvent');
        failures = 0;
        lastId = e.id;
        yield { ...parsed.data, id: e.id };
        if (parsed.data.kind === 'end') return;
      }
      if (sig.signal.aborted) throw sig.signal.reason;
    } catch (err) {
      if (!isDrop(err, sig) || ++failures > policy.attempts) throw classify(err, site, sig, undefined);
    }
    try {
      await sleep(Math.min(policy.maxDelayMs, policy.delayMs * 2 ** Math.max(0, failures - 1)), undefined, { signal: sig.signal });
    } catch (err) {
      throw classify(err, site, sig, undefined);
    }
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
