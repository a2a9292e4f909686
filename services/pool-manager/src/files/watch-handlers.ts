import { BerthError, FileWatchEventSchema, type FilesWatchOpened, type FilesWatchRequest, type FileWatchEvent } from '@berth/contracts';
import { serve, StreamSink, type Subscription } from '@berth/service-kit';
import type { PoolManagerConfig } from '../config.js';
import { FileChannel } from './file-channel.js';
import { fileError } from './file-errors.js';
import type { FileDeps } from './file-handlers.js';
import { FileWatch, type WatchKey } from './file-watch.js';
import type { FileWatches } from './file-watches.js';

export interface WatchDeps extends Omit<FileDeps, 'maxUploadBytes' | 'activity'> {
  watches: FileWatches;
  maxPerWorkspace: number;
  maxEntries: number;
  intervalMs: number;
  resumeMs: number;
  bufferEvents: number;
}

/** The watch settings of pool-manager's config. */
export const watchLimits = (c: PoolManagerConfig) => ({
  maxPerWorkspace: c.FILES_WATCH_MAX_PER_WORKSPACE,
  maxEntries: c.FILES_WATCH_MAX_ENTRIES,
  intervalMs: c.FILES_WATCH_INTERVAL_MS,
  resumeMs: c.FILES_WATCH_RESUME_MS,
  bufferEvents: c.FILES_WATCH_BUFFER_EVENTS,
});

/** Events one `events` message of the agent may carry (it sends at most 64). */
const MAX_EVENTS_PER_MESSAGE = 256;
/** A watch may be silent for as long as nothing changes: no reply deadline (setTimeout's largest). */
const SILENT_FOREVER_MS = 2 ** 31 - 1;
const CHANGE_KINDS: ReadonlySet<unknown> = new Set(['created', 'modified', 'deleted']);

const sameKey = (a: WatchKey, b: WatchKey) => a.workspace === b.workspace && a.owner === b.owner && a.path === b.path && a.recursive === b.recursive;
/** The entry's path as the caller would name it: the watched path, then the entry's place below it. */
const joined = (root: string, rel: string) => `${root.endsWith('/') ? root : `${root}/`}${rel}`;

async function openWatch(d: WatchDeps, req: FilesWatchRequest): Promise<FilesWatchOpened> {
  const view = await d.access.get(req.id, req.owner);
  // A paused workspace's agent is frozen: a watch would hear nothing. Watching never resumes it.
  if (view.state === 'paused')
    throw new BerthError('CONTAINER_PAUSED', `container ${req.id} is paused; resume it first (POST /api/containers/${req.id}/resume)`);
  const key: WatchKey = { workspace: req.id, owner: req.owner, path: req.path, recursive: req.recursive };
  const sink = () => new StreamSink(d.nc, req.streamId, req.inbox, req.window, d.logger);
  const resumed = req.resume && d.watches.get(req.resume.watch);
  if (resumed && !resumed.over && sameKey(resumed.key, key)) {
    resumed.attach(sink(), req.resume!.seq);
    return { streamId: req.streamId, watch: resumed.id };
  }
  if (d.watches.count(req.id) >= d.maxPerWorkspace) throw fileError('EWATCHLIMIT', undefined, req.path);
  const request = { op: 'watch', path: req.path, recursive: req.recursive, maxWatches: d.maxPerWorkspace, maxEntries: d.maxEntries, intervalMs: d.intervalMs };
  const ch = await FileChannel.open(d.agents, req.id, request, req.path, 'watch');
  try {
    await ch.expect('ready');
  } catch (err) {
    ch.close();
    throw err;
  }
  const watch = new FileWatch(key, {
    resumeMs: d.resumeMs,
    bufferEvents: d.bufferEvents,
    close: () => ch.close(),
    onGone: (w) => d.watches.delete(w),
  });
  d.watches.add(watch);
  watch.attach(sink(), undefined, req.resume ? 'unknown' : undefined);
  void follow(d, watch, ch);
  return { streamId: req.streamId, watch: watch.id };
}

/** The agent's events into the watch, checked (the agent is the workspace's), until it ends. */
async function follow(d: WatchDeps, watch: FileWatch, ch: FileChannel): Promise<void> {
  // A watch sends no bytes: any is out of protocol.
  ch.conn.decoder.on('data', () => ch.close());
  try {
    for (;;) {
      const msg = (await ch.next(SILENT_FOREVER_MS)) as { type: string; events?: unknown; count?: unknown };
      if (msg.type === 'overflow') {
        watch.add({ kind: 'overflow', count: Number.isSafeInteger(msg.count) ? (msg.count as number) : 0 });
      } else if (msg.type === 'events' && Array.isArray(msg.events) && msg.events.length <= MAX_EVENTS_PER_MESSAGE) {
        for (const raw of msg.events as Record<string, unknown>[]) {
          if (typeof raw !== 'object' || raw === null || !CHANGE_KINDS.has(raw.kind) || typeof raw.path !== 'string') continue;
          const parsed = FileWatchEventSchema.safeParse({ ...raw, path: joined(watch.key.path, raw.path) });
          if (parsed.success) watch.add(parsed.data as FileWatchEvent);
        }
      } else {
        throw new BerthError('FILE_OPERATION_FAILED', "the workspace's agent answered out of protocol");
      }
    }
  } catch (err) {
    if (watch.over) return;
    if (err instanceof BerthError && err.code === 'FILE_NOT_FOUND') return watch.end('removed');
    if (err instanceof BerthError && err.code !== 'FILE_OPERATION_FAILED') return watch.fail(err);
    // The agent's connection ended: the workspace was deleted or paused, or its agent restarted.
    const view = await d.access.get(watch.key.workspace, watch.key.owner).catch(() => undefined);
    watch.end(view === undefined ? 'deleted' : view.state === 'paused' ? 'paused' : 'stopped');
  }
}

/** `GET …/files/watch` through the workspace's agent (docs/files.md "Watch"). */
export function serveWatchHandlers(d: WatchDeps): Subscription[] {
  return [serve(d.nc, 'filesWatch', (req) => openWatch(d, req), d.logger)];
}
