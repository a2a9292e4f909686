import { allowOnly } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';
import { json, table } from '../table.js';

export const pools: Command = async (p, { io, client }) => {
  allowOnly(p, ['json']);
  if (p.positionals.length > 0) throw new UsageError('pools takes no arguments');
  const list = await (await client()).pools.list();
  if (p.values.json) io.out(json(list));
  else
    io.out(
      table(
        ['NAME', 'IMAGE', 'WARM', 'CREATING', 'CLAIMED', 'TARGET', 'MEMORY_MB'],
        list.map((x) => [x.name, x.image, x.warm, x.creating, x.claimed, x.targetSize, x.memoryMb]),
      ),
    );
  return EXIT.ok;
};

/** Exits 1 when the gateway is degraded, so scripts can wait on it. */
export const health: Command = async (p, { io, client }) => {
  allowOnly(p, ['json']);
  const h = await (await client()).health();
  if (p.values.json) io.out(json(h));
  else io.out(`${h.status}  containers=${h.containerCount}  uptime=${h.uptime}s  version=${h.version}\n`);
  return h.status === 'ok' ? EXIT.ok : EXIT.failed;
};

/** `berth volumes` lists your named volumes; `berth volumes rm NAME...` removes them. */
export const volumes: Command = async (p, { io, client }) => {
  allowOnly(p, ['json']);
  const [sub, ...names] = p.positionals;
  const berth = await client();
  if (sub === 'rm') {
    if (names.length === 0) throw new UsageError('volumes rm needs at least one volume name');
    for (const name of names) {
      await berth.volumes.delete(name);
      io.out(`${name}\n`);
    }
    return EXIT.ok;
  }
  if (sub !== undefined) throw new UsageError(`unknown volumes subcommand "${sub}"`);
  const list = await berth.volumes.list();
  if (p.values.json) io.out(json(list));
  else
    io.out(
      table(
        ['NAME', 'IN_USE', 'CREATED'],
        list.volumes.map((v) => [v.name, v.inUse ? 'yes' : 'no', v.createdAt ?? '-']),
      ),
    );
  return EXIT.ok;
};
