import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';
import { allowOnly } from '../args.js';

/** `berth watch [-r] [--json] ID PATH`: one line per change (`created file w/a.txt`) until the watch ends. */
export const watch: Command = async (p, { io, client }) => {
  allowOnly(p, ['recursive', 'json']);
  const [id, path, ...extra] = p.positionals;
  if (id === undefined || path === undefined || extra.length > 0) throw new UsageError('watch needs a container id and a directory: berth watch [-r] ID PATH');
  const container = await (await client()).containers.get(id);
  for await (const e of container.files.watch(path, { recursive: p.values.recursive === true })) {
    if (p.values.json) io.out(`${JSON.stringify(e)}\n`);
    else if ('path' in e) io.out(`${e.kind} ${e.type} ${e.path}\n`);
    else if ('count' in e) io.out(`overflow ${e.count} changes at once: list the directory again\n`);
    else io.out(`${e.kind} ${e.reason}\n`);
  }
  return EXIT.ok;
};
