// Writes docker/nats/nats-server.conf and authorization.conf from the subject catalogue.
// `--check` only compares and exits 1 when a committed file is out of date.
// `--subscribers=<file>` (or NATS_SUBSCRIBERS_FILE) adds the subscriber users of that JSON file
// (src/subscribers.ts): write those into a directory of your own, not over the committed files.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNatsSubscribers } from '../src/index.js';
import { buildNatsConfigFiles } from './nats-config.js';

const args = process.argv.slice(2);
const outArg = args.find((a) => !a.startsWith('--'));
const out = outArg ? resolve(outArg) : join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docker', 'nats');
const subscribersFile = args.find((a) => a.startsWith('--subscribers='))?.slice('--subscribers='.length) || process.env.NATS_SUBSCRIBERS_FILE;
let subscribers;
try {
  subscribers = subscribersFile ? parseNatsSubscribers(readFileSync(subscribersFile, 'utf8')) : [];
} catch (err) {
  console.error(`${subscribersFile}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
if (subscribers.length > 0 && !outArg) {
  console.error('subscribers are deployment-specific: give an output directory, not the committed docker/nats/');
  process.exit(1);
}
const files = buildNatsConfigFiles(subscribers);

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
