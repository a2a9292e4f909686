// Builds the publishable package, which depends on nothing at install time: tsc compiles src/ and
// the part of @berth/contracts it imports (dist/sdk/src, dist/contracts/src), zod's ESM build and
// types are copied to dist/vendor/zod (with its licence), and every '@berth/contracts' and 'zod'
// import is pointed at those copies. `npm pack` runs this (prepack).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const require = createRequire(join(root, 'package.json'));
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

// zod's own source (src/) and CommonJS build are not needed: the package is ESM only.
const zodRoot = dirname(require.resolve('zod/package.json'));
const vendoredZod = join(dist, 'vendor/zod');
for (const file of files(zodRoot)) {
  const rel = relative(zodRoot, file);
  if (rel.startsWith('src/') || !(/\.(js|d\.ts)$/.test(rel) || rel === 'LICENSE')) continue;
  mkdirSync(dirname(join(vendoredZod, rel)), { recursive: true });
  copyFileSync(file, join(vendoredZod, rel));
}

// Declarations may name zod's subpaths too (tsc writes `import("zod/v4/core")` for inferred types).
const target = (name: string) => (name === '@berth/contracts' ? join(dist, 'contracts/src/index.js') : join(vendoredZod, name.slice('zod'.length), 'index.js'));
const specifier = /(["'])(@berth\/contracts|zod(?:\/[\w/-]+)?)\1/g;
for (const file of [...files(join(dist, 'sdk')), ...files(join(dist, 'contracts'))]) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(specifier, (_m, quote: string, name: string) => {
    const rel = relative(dirname(file), target(name));
    return `${quote}${rel.startsWith('.') ? rel : `./${rel}`}${quote}`;
  });
  if (rewritten !== text) writeFileSync(file, rewritten);
}
chmodSync(join(dist, 'sdk/src/cli/main.js'), 0o755);
