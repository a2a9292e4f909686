// Watches of the berth agent (docker/agent/PROTOCOL.md, "Watch"): a directory of /workspace is
// scanned every so often and compared with the scan before, giving created / modified / deleted.
// Polling, not inotify: every workspace runs as uid 1000, which is the same uid on the host, and
// inotify's limits (max_user_instances, max_user_watches) are per uid of the host's user namespace,
// so one workspace's recursive watch over a huge tree would take them from every other workspace's
// dev server. A scan costs an lstat per entry (about 10 µs); the next one waits CPU_SHARE times as long as the last
// took, so a watch uses at most 1/CPU_SHARE of a core, inside the workspace's own CPU limit.
import { constants, lstatSync, readdirSync } from 'node:fs';
import { open, readlink } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';

const HOME = '/workspace';
/** The next scan waits at least this many times the last one's duration. */
const CPU_SHARE = 20;
const MIN_INTERVAL_MS = 100;
const DEFAULT_INTERVAL_MS = 250;
/** Changes one scan may report one by one; more: one `overflow` (the caller lists again). */
const MAX_EVENTS_PER_SCAN = 256;
/** Events per `events` message (each far below the 1 MiB frame even with 4 KiB paths). */
const EVENTS_BATCH = 64;
/** Entries a scan looks at between two turns of the event loop. */
const SLICE = 500;
/** Hard ceilings of what pool-manager may ask for. */
const MAX_ENTRIES_CEILING = 200_000;
const MAX_WATCHES_CEILING = 64;

/** Watches running in this agent (this workspace). */
let active = 0;

const fail = (message, code) => Object.assign(new Error(message), { code });
const typeOf = (st) => (st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other');
const bounded = (v, dflt, min, max) => (Number.isSafeInteger(v) ? Math.min(max, Math.max(min, v)) : dflt);
const inHome = (p) => p === HOME || p.startsWith(`${HOME}/`);

/**
 * Every entry below the directory open as `base` (a /proc/self/fd path: the directory itself,
 * whatever happens to its name), one level or all, never into a symlink: rel → state. `busy`
 * gets the time spent scanning (not waiting for the event loop: a loaded machine does not make
 * the next scan wait longer).
 */
async function scan(base, recursive, maxEntries, busy = { ms: 0 }) {
  const found = new Map();
  const queue = [''];
  let done = 0;
  let from = performance.now();
  while (queue.length) {
    const rel = queue.shift();
    let names;
    try {
      names = readdirSync(rel ? `${base}/${rel}` : base);
    } catch (err) {
      if (rel === '') throw err;
      continue; // removed, or not readable by the user, since it was seen: its entries are simply not there
    }
    if (found.size + names.length > maxEntries) throw fail(`more than ${maxEntries} entries to watch`, 'EWATCHSIZE');
    for (const name of names) {
      // Synchronous: a tenth of the promise version's cost. The loop yields every SLICE entries,
      // so commands on the agent's other connections never wait long.
      const st = lstatSync(`${base}/${rel ? `${rel}/` : ''}${name}`, { throwIfNoEntry: false });
      if (++done % SLICE === 0) {
        busy.ms += performance.now() - from;
        await yieldNow();
        from = performance.now();
      }
      if (!st) continue;
      const path = rel ? `${rel}/${name}` : name;
      found.set(path, { type: typeOf(st), size: st.isFile() ? st.size : 0, mtimeMs: st.mtimeMs, ino: st.ino, mode: st.mode });
      if (recursive && st.isDirectory()) queue.push(path);
    }
  }
  busy.ms += performance.now() - from;
  return found;
}

/** What changed between two scans: deleted (deepest first), created (parents first), modified (not directories). */
function diff(before, after) {
  const changes = [];
  for (const [path, old] of before) {
    const now = after.get(path);
    if (!now || now.type !== old.type) changes.push(['deleted', path, old]);
  }
  changes.reverse();
  for (const [path, now] of after) {
    const old = before.get(path);
    if (!old || old.type !== now.type) changes.push(['created', path, now]);
    else if (now.type !== 'directory' && (now.mtimeMs !== old.mtimeMs || now.size !== old.size || now.ino !== old.ino || now.mode !== old.mode))
      changes.push(['modified', path, now]);
  }
  return changes;
}

/**
 * Starts a watch of `req.path` (a directory in /workspace; `req.recursive` for the whole tree).
 * `send(msg)` sends a JSON message and returns false when the socket is full; `drained()` resolves
 * when it has room. Resolves once the first scan is done (`ready` sent) with a stop function;
 * errors before that reject (ENOTDIR, ENOENT, EOUTSIDE, EWATCHLIMIT, EWATCHSIZE). An error
 * later is sent as `error` through `onError`.
 */
export async function startWatch(req, path, { send, drained, onError }) {
  const maxWatches = bounded(req.maxWatches, 4, 1, MAX_WATCHES_CEILING);
  const maxEntries = bounded(req.maxEntries, 20_000, 1, MAX_ENTRIES_CEILING);
  const minInterval = bounded(req.intervalMs, DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS, 60_000);
  if (!inHome(path)) throw fail('outside /workspace', 'EOUTSIDE');
  if (active >= maxWatches) throw fail(`${maxWatches} watches already`, 'EWATCHLIMIT');
  active += 1;
  let stopped = false;
  let fh;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    active -= 1;
    void fh?.close().catch(() => undefined);
  };
  try {
    // Opened, then checked: what the fd is (not what the name was a moment ago) must be a directory
    // of /workspace. A link to a directory inside is fine; to one outside is refused.
    fh = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
    const base = `/proc/self/fd/${fh.fd}`;
    if (!inHome(await readlink(base))) throw fail('outside /workspace', 'EOUTSIDE');
    const recursive = req.recursive === true;
    let before = await scan(base, recursive, maxEntries);
    send({ type: 'ready' });
    void (async () => {
      let took = 0;
      while (!stopped) {
        await sleep(Math.max(minInterval, CPU_SHARE * took));
        if (stopped) return;
        const busy = { ms: 0 };
        const root = await fh.stat();
        const after = root.nlink === 0 ? new Map() : await scan(base, recursive, maxEntries, busy);
        took = busy.ms;
        if (stopped) return;
        const changes = diff(before, after);
        before = after;
        let room = true;
        if (changes.length > MAX_EVENTS_PER_SCAN) room = send({ type: 'overflow', count: changes.length });
        else
          for (let i = 0; i < changes.length; i += EVENTS_BATCH) {
            const events = changes.slice(i, i + EVENTS_BATCH).map(([kind, rel, st]) => ({
              kind,
              path: rel,
              type: st.type,
              size: st.size,
              mtime: new Date(st.mtimeMs).toISOString(),
            }));
            room = send({ type: 'events', events }) && room;
          }
        // The directory itself is gone: its entries were reported deleted, the watch ends.
        if (root.nlink === 0) throw fail('the watched directory was removed', 'ENOENT');
        // pool-manager reads what it is sent; a full socket waits before scanning on.
        if (!room) await drained();
      }
    })().catch((err) => {
      if (stopped) return;
      stop();
      onError(err);
    });
  } catch (err) {
    stop();
    throw err;
  }
  return stop;
}
