import { allowOnly, positiveInt } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';
import { json, table } from '../table.js';

export const ls: Command = async (p, { io, client }) => {
  allowOnly(p, ['json']);
  if (p.positionals.length > 0) throw new UsageError('ls takes no arguments');
  const containers = await (await client()).containers.list();
  if (p.values.json) io.out(json(containers));
  else io.out(table(['ID', 'NAME', 'POOL', 'STATE', 'PORT', 'CREATED'], containers.map((c) => [c.id, c.name, c.pool, c.state, c.hostPort, c.createdAt])));
  return EXIT.ok;
};

export const create: Command = async (p, { io, client }) => {
  allowOnly(p, ['json', 'pool', 'name', 'image', 'port', 'repo']);
  if (p.values.repo !== undefined) {
    throw new UsageError('--repo is not available yet: workspaces from owner/repo@branch arrive with the repository setup API');
  }
  if (p.positionals.length > 0) throw new UsageError('create takes no arguments (did you mean --name?)');
  const { pool, name, image } = p.values;
  const ports = p.values.port?.map((v) => positiveInt(v, 'port') as number);
  const c = await (await client()).containers.create({ pool, name, image, ports });
  if (p.values.json) {
    io.out(json(c));
  } else {
    // The id alone on stdout, so `id=$(berth create)` works; the rest is for people.
    io.out(`${c.id}\n`);
    io.err(`created ${c.name} (${c.warm ? 'warm' : 'cold'}, pool ${c.pool}, port ${c.hostPort ?? '-'})\n`);
  }
  return EXIT.ok;
};

export const rm: Command = async (p, { io, client }) => {
  allowOnly(p, []);
  if (p.positionals.length === 0) throw new UsageError('rm needs at least one container id');
  const berth = await client();
  for (const id of p.positionals) {
    await berth.containers.delete(id);
    io.out(`${id}\n`);
  }
  return EXIT.ok;
};
