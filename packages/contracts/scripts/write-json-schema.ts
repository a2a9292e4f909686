// Writes JSON Schema for every HTTP body, NATS message and event into packages/contracts/schemas/
// (or the directory given as the first argument), and removes files no schema produces any more.
// These files are committed: other systems read them. `--check` only compares and exits 1 on drift.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchemaFiles } from './json-schema.js';

const args = process.argv.slice(2);
const check = args.includes('--check');
const outArg = args.find((a) => !a.startsWith('--'));
const out = outArg ? resolve(outArg) : join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');

const files = buildSchemaFiles();
const existing = existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.json')) : [];
const stale = existing.filter((f) => !files.has(f));

if (check) {
  const changed = [...files].filter(([name, content]) => !existsSync(join(out, name)) || readFileSync(join(out, name), 'utf8') !== content);
  if (changed.length > 0 || stale.length > 0) {
    for (const [name] of changed) console.error(`out of date: ${name}`);
    for (const name of stale) console.error(`stale: ${name}`);
    console.error('run `pnpm schemas` and commit packages/contracts/schemas/');
    process.exit(1);
  }
  console.log(`JSON Schema in ${out} is up to date`);
} else {
  mkdirSync(out, { recursive: true });
  for (const name of stale) rmSync(join(out, name));
  for (const [name, content] of files) writeFileSync(join(out, name), content);
  console.log(`wrote ${files.size} files to ${out}`);
}
