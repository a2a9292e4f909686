// Runs a service from its TypeScript source in the dev stack, as one Node process (docker/dev/run.sh
// starts it with resolve-ts.ts): Node strips the types itself, and every source file the service
// loads from the repository (its own src/ and packages/) is watched. A change stops the service
// gracefully (SIGTERM: its own shutdown) after listing the changed files in BERTH_DEV_RESTART_FILE,
// and run.sh starts it again at once; no watcher process or esbuild service sits beside it. A service that fails to load
// (a syntax error in an edit) waits for the next change instead of ending the container.
import { watch, writeFileSync, type FSWatcher } from 'node:fs';
import { registerHooks } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const main = process.argv[2];
if (!main) {
  console.error('usage: runner.ts <service main.ts>');
  process.exit(2);
}
const restartFile = process.env.BERTH_DEV_RESTART_FILE;
// Editors save in bursts (truncate + write, or write a temporary file and rename it over the old one).
const SETTLE_MS = 50;

/** Watched directories, each with the names of the loaded files in it. */
const watched = new Map<string, { names: Set<string>; watcher: FSWatcher }>();
/** The files changed since the first change was seen, for warm.ts. */
const changed = new Set<string>();
let restarting = false;
/** Set when the service did not load: nothing of it runs, so there is nothing to stop gracefully. */
let failed = false;

function restart(file: string): void {
  changed.add(file);
  if (restarting) return;
  restarting = true;
  console.error(`[dev] ${file} changed: restarting`);
  setTimeout(() => {
    if (restartFile) writeFileSync(restartFile, [...changed].join('\n'));
    for (const { watcher } of watched.values()) watcher.close();
    if (failed) process.exit(0);
    process.kill(process.pid, 'SIGTERM');
  }, SETTLE_MS);
}

/** Watches the file's directory rather than the file, so a save that renames a new file over it is seen too. */
function watchSource(file: string): void {
  const dir = dirname(file);
  const entry = watched.get(dir);
  if (entry) {
    entry.names.add(basename(file));
    return;
  }
  const names = new Set([basename(file)]);
  // Not persistent: the watchers alone do not keep a service that has finished alive.
  const watcher = watch(dir, { persistent: false }, (_event, name) => {
    if (name && names.has(name)) restart(resolve(dir, name));
  });
  watched.set(dir, { names, watcher });
}

registerHooks({
  load(url, context, nextLoad) {
    // Watched before it is read, so an edit made while it loads is not missed.
    if (url.startsWith('file:') && !url.includes('/node_modules/')) watchSource(fileURLToPath(url));
    return nextLoad(url, context);
  },
});

try {
  await import(pathToFileURL(resolve(main)).href);
} catch (err) {
  failed = true;
  console.error(err);
  console.error(`[dev] ${main} did not load: waiting for a change to one of its files`);
  // The watchers do not keep the process alive; this does until one of them restarts it.
  setInterval(() => undefined, 2 ** 30);
}
