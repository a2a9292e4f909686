import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { TemplateSource } from '../../templates.js';
import { allowOnly } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';
import { json, table } from '../table.js';

/** A context directory as an uncompressed tar (the local tar), held in memory: the gateway bounds its size. */
async function tarOf(dir: string): Promise<Uint8Array> {
  const { stdout } = await promisify(execFile)('tar', ['-c', '-C', dir, '.'], { encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 });
  return new Uint8Array(stdout);
}

/**
 * `berth template build --name N -f Dockerfile` (or a context directory holding its Dockerfile),
 * `berth template ls`, `berth template rm NAME...`. `-f` is also `logs`' follow flag, so here it
 * takes the next word as the file.
 */
export const template: Command = async (p, { io, client }) => {
  const [sub, ...args] = p.positionals;
  const berth = await client();
  if (sub === 'build') {
    allowOnly(p, ['json', 'name', 'file', 'follow']);
    const file = p.values.file ?? (p.values.follow ? args.shift() : undefined);
    const [dir, ...extra] = args;
    if (!p.values.name) throw new UsageError('template build needs --name NAME');
    if (extra.length > 0 || (file === undefined) === (dir === undefined)) {
      throw new UsageError('template build takes a Dockerfile (-f FILE) or a context directory (DIR, with its Dockerfile), not both');
    }
    const source: TemplateSource = file !== undefined ? { dockerfile: await readFile(file, 'utf8') } : { context: await tarOf(dir!) };
    const result = await berth.templates.build(p.values.name, source, { onOutput: (data) => io.err(data) });
    if (p.values.json) io.out(json(result));
    else {
      for (const t of result.built) io.out(`built ${result.name} on ${t.hostId}: ${t.image}\n`);
      for (const f of result.failed) io.err(`failed on ${f.hostId}: ${f.error.message}\n`);
    }
    return result.failed.length === 0 ? EXIT.ok : EXIT.failed;
  }
  allowOnly(p, ['json']);
  if (sub === 'rm') {
    if (args.length === 0) throw new UsageError('template rm needs at least one template name');
    for (const name of args) {
      await berth.templates.delete(name);
      io.out(`${name}\n`);
    }
    return EXIT.ok;
  }
  if (sub !== 'ls' && sub !== undefined) throw new UsageError(`unknown template subcommand "${sub}"`);
  if (args.length > 0) throw new UsageError('template ls takes no arguments');
  const list = await berth.templates.list();
  if (p.values.json) io.out(json(list));
  else
    io.out(
      table(
        ['NAME', 'HOSTS', 'CREATED'],
        list.templates.map((t) => [t.name, t.hosts.map((h) => h.hostId).join(','), t.hosts[0]?.createdAt ?? '-']),
      ),
    );
  return EXIT.ok;
};
