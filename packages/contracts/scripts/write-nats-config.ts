// Writes docker/nats/nats-server.conf and authorization.conf from the subject catalogue.
// `--check` only compares and exits 1 when a committed file is out of date.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNatsConfigFiles } from './nats-config.js';

const args = process.argv.slice(2);
const outArg = args.find((a) => !a.startsWith('--'));
const out = outArg ? resolve(outArg) : join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docker', 'nats');
const files = buildNatsConfigFiles();

if (args.includes('--check')) {
  const changed = [...files].filter(([name, content]) => !existsSync(join(out, name)) || readFileSync(join(out, name), 'utf8') !== content);
  for (const [name] of changed) console.error(`out of date: ${name}`);
  if (changed.length > 0) {
    console.error('run `pnpm nats-config` and commit docker/nats/');
    process.exit(1);
  }
  console.log(`NATS config in ${out} is up to date`);
} else {
  mkdirSync(out, { recursive: true });
  for (const [name, content] of files) writeFileSync(join(out, name), content);
  console.log(`wrote ${[...files.keys()].join(', ')} to ${out}`);
}
