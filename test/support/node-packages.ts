import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Not needed to run: type declarations, source maps, sources and docs. */
const SKIP = /(\.d\.[cm]?ts|\.map|\.md)$|^\/src(\/|$)/;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where `name` resolves from `fromDir` the way Node does: the nearest node_modules up the tree. */
function packageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Copies packages installed in this repository (pnpm's symlinked layout), with their runtime
 * dependencies, into a flat `node_modules` under a new temporary directory, so they can be copied
 * into a workspace that has no registry to install from. Returns that directory.
 */
export function flatNodeModules(names: string[]): string {
  const out = mkdtempSync(join(tmpdir(), 'berth-node-modules-'));
  chmodSync(out, 0o755); // readable by the workspace user once copied in
  const seen = new Set<string>();
  const visit = (name: string, fromDir: string, optional: boolean) => {
    if (seen.has(name)) return;
    const dir = packageDir(name, fromDir);
    if (!dir) {
      if (optional) return;
      throw new Error(`${name} is not installed (from ${fromDir})`);
    }
    seen.add(name);
    const target = join(out, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    const inside = (src: string) => src.slice(dir.length);
    cpSync(dir, target, { recursive: true, dereference: true, filter: (src) => !inside(src).includes('/node_modules/') && !SKIP.test(inside(src)) });
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys({ ...pkg.optionalDependencies, ...pkg.peerDependencies })) visit(dep, dir, true);
  };
  for (const name of names) visit(name, ROOT, false);
  return out;
}
