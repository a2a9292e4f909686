// Fills NODE_COMPILE_CACHE with a service's static module graph (and runner.ts's) without running any of it, in a
// short-lived process docker/dev/run.sh starts before the service. Node then finds every module's
// stripped TypeScript and compiled code there, so the long-lived service process never loads
// Node's TypeScript transformer (amaro, swc as WebAssembly: ~17 MB that stays for the life of
// the process, on every start after an edit). An import of a name the entry does not export
// fails at link time, after every module was loaded and compiled and before any was evaluated.
// Silent: whatever fails here (a syntax error in an edit) fails again, reported, in the service.
import { flushCompileCache } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const main = process.argv[2];
if (main) {
  const entry = JSON.stringify(pathToFileURL(resolve(main)).href);
  const runner = JSON.stringify(new URL('runner.ts', import.meta.url).href);
  const linkOnly = `import ${runner}; import { berthDevWarmOnly } from ${entry};`;
  await import(`data:text/javascript,${encodeURIComponent(linkOnly)}`).catch(() => undefined);
  flushCompileCache();
}
