import { allowOnly, positiveInt } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';
import { progressLine, parseRepoRef } from '../progress.js';
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
  allowOnly(p, ['json', 'pool', 'name', 'image', 'port', 'repo', 'volume']);
  const repo = p.values.repo === undefined ? undefined : parseRepoRef(p.values.repo);
  if (p.positionals.length > 0) throw new UsageError('create takes no arguments (did you mean --name?)');
  const { pool, name, image, volume: volumeName } = p.values;
  const ports = p.values.port?.map((v) => positiveInt(v, 'port') as number);
  const c = await (await client()).containers.create({ pool, name, image, ports, volumeName });
  if (repo) {
    io.err(`created ${c.id}; setting up ${repo.repo}@${repo.branch}\n`);
    try {
      const setup = await c.setup(repo, { onProgress: (s) => io.err(progressLine(s)) });
      if (p.values.json) { io.out(json({ ...c.toJSON(), setup })); return EXIT.ok; }
    } catch (err) {
      // The container stays for inspection (berth logs, berth shell); say which one.
      io.err(`berth: setup of ${c.id} failed; the container is kept (berth rm ${c.id} removes it)\n`);
      throw err;
    }
  }
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
