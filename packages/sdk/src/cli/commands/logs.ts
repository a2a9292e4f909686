import { allowOnly, wholeNumber } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';

/** `berth logs [-f] [--tail N] [--since TIME] [--json] ID`: stdout lines to stdout, stderr lines to stderr. */
export const logs: Command = async (p, { io, client }) => {
  allowOnly(p, ['follow', 'tail', 'since', 'json']);
  const [id, ...extra] = p.positionals;
  if (id === undefined || extra.length > 0) throw new UsageError('logs needs one container id: berth logs [-f] ID');
  const tail = wholeNumber(p.values.tail, 'tail');
  const since = p.values.since;
  if (since !== undefined && Number.isNaN(Date.parse(since))) throw new UsageError(`--since must be an ISO time, got "${since}"`);
  const container = await (await client()).containers.get(id);
  const follow = p.values.follow === true;
  for await (const line of container.logs({ follow, ...(tail !== undefined && { tail }), ...(since !== undefined && { since }) })) {
    if (p.values.json) {
      io.out(`${JSON.stringify(line)}\n`);
      continue;
    }
    const text = line.continued ? line.line : `${line.line}\n`;
    if (line.stream === 'stderr') io.err(text);
    else io.out(text);
  }
  return EXIT.ok;
};
