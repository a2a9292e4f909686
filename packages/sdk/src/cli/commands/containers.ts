import type { SetupStatus } from '@berth/contracts';
import { allowOnly, positiveInt } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';
import { outputLine, progressLine, parseRepoRef, setupFailure } from '../progress.js';
import { json, table } from '../table.js';
import { limitsOf } from '../limits.js';

export const ls: Command = async (p, { io, client }) => {
  allowOnly(p, ['json']);
  if (p.positionals.length > 0) throw new UsageError('ls takes no arguments');
  const containers = await (await client()).containers.list();
  if (p.values.json) io.out(json(containers));
  else
    io.out(
      table(
        ['ID', 'NAME', 'POOL', 'STATE', 'PORT', 'CREATED'],
        containers.map((c) => [c.id, c.name, c.pool, c.state, c.hostPort, c.createdAt]),
      ),
    );
  return EXIT.ok;
};

export const create: Command = async (p, { io, client }) => {
  allowOnly(p, ['json', 'pool', 'name', 'image', 'template', 'port', 'repo', 'volume', 'cpus', 'memory', 'disk']);
  const repo = p.values.repo === undefined ? undefined : parseRepoRef(p.values.repo);
  if (p.positionals.length > 0) throw new UsageError('create takes no arguments (did you mean --name?)');
  const { pool, name, image, template, volume: volumeName } = p.values;
  const ports = p.values.port?.map((v) => positiveInt(v, 'port') as number);
  const c = await (await client()).containers.create({ pool, name, image, template, ports, volumeName, ...limitsOf(p) });
  let setup: SetupStatus | undefined;
  if (repo) {
    io.err(`created ${c.id}; setting up ${repo.repo}@${repo.branch}\n`);
    let seen: SetupStatus | undefined;
    try {
      setup = await c.setup(repo, {
        onProgress: (s) => {
          seen = s;
          io.err(progressLine(s));
        },
        onOutput: (l) => io.err(outputLine(l)),
      });
    } catch (err) {
      // The container exists and is kept for inspection: its id goes where a success puts it.
      const status = (err as { setup?: SetupStatus }).setup ?? (await c.setupStatus({ timeoutMs: 10_000 }).catch(() => seen));
      io.out(p.values.json ? json({ ...c.toJSON(), setup: status ?? null }) : `${c.id}\n`);
      io.err(setupFailure(c.id, status, err));
      return EXIT.failed;
    }
  }
  if (p.values.json) {
    io.out(json(setup ? { ...c.toJSON(), setup } : c));
  } else {
    // The id alone on stdout, so `id=$(berth create)` works; the rest is for people.
    io.out(`${c.id}\n`);
    io.err(`created ${c.name} (${c.warm ? 'warm' : 'cold'}, pool ${c.pool}, port ${c.hostPort ?? '-'})\n`);
  }
  return EXIT.ok;
};

/** `berth rm A B ...`: removes every container it can, names each one it could not, exits 1 if any. */
export const rm: Command = async (p, { io, client }) => {
  allowOnly(p, []);
  if (p.positionals.length === 0) throw new UsageError('rm needs at least one container id');
  const berth = await client();
  let failed = 0;
  for (const id of p.positionals) {
    try {
      await berth.containers.delete(id);
      io.out(`${id}\n`);
    } catch (err) {
      failed++;
      io.err(`berth: rm ${id}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  if (failed > 0 && p.positionals.length > 1) io.err(`berth: ${failed} of ${p.positionals.length} containers not removed\n`);
  return failed > 0 ? EXIT.failed : EXIT.ok;
};
