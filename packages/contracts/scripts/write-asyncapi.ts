// Writes packages/contracts/asyncapi.json (or the path given) from the contracts; `--check` only
// compares and exits 1 when the committed file is out of date.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncApiText } from './asyncapi.js';

const args = process.argv.slice(2);
const outArg = args.find((a) => !a.startsWith('--'));
const out = outArg ? resolve(outArg) : join(dirname(fileURLToPath(import.meta.url)), '..', 'asyncapi.json');
const text = asyncApiText();

if (args.includes('--check')) {
  if (!existsSync(out) || readFileSync(out, 'utf8') !== text) {
    console.error(`out of date: ${out}\nrun \`pnpm asyncapi\` and commit it`);
    process.exit(1);
  }
  console.log(`${out} is up to date`);
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
