// Fills NODE_COMPILE_CACHE for a service without running any of it, in a short-lived process
// docker/dev/run.sh starts before the service. Node then finds every module's stripped TypeScript
// and compiled code there, so the long-lived service process never loads Node's TypeScript
// transformer (amaro, swc as WebAssembly: ~17 MB that would stay for the life of the process).
// Usage: warm.ts <service main.ts> [file listing the changed files, one a line]
// With no list (a first start): the service's static module graph and runner.ts's. With a list (a
// restart after an edit, the list runner.ts left): only those files, every other import resolved
// to an empty module, since the rest of the graph is in the cache already. Either way the import
// asks for a name the entry does not export, so it fails at link time: after every module was
// loaded and compiled, before any was evaluated. Silent: whatever fails here (a syntax error in an
// edit) fails again, reported, in the service.
import { existsSync, readFileSync } from 'node:fs';
import { flushCompileCache, registerHooks } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [main, changedList] = process.argv.slice(2);
const changed = changedList && existsSync(changedList) ? readFileSync(changedList, 'utf8').split('\n').filter(Boolean) : [];
const entries = changed.length > 0 ? changed : [resolve(main ?? ''), new URL('runner.ts', import.meta.url).pathname];
const urls = new Set(entries.map((f) => pathToFileURL(f).href));

if (changed.length > 0) {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      const cached = resolved.url.startsWith('file:') && !urls.has(resolved.url);
      return cached ? { url: 'data:text/javascript,', format: 'module', shortCircuit: true } : resolved;
    },
  });
}
const linkOnly = [...urls].map((u, i) => `import { berthDevWarmOnly as w${i} } from ${JSON.stringify(u)};`).join('');
await import(`data:text/javascript,${encodeURIComponent(linkOnly)}`).catch(() => undefined);
flushCompileCache();
