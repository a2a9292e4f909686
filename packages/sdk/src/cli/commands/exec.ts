import { allowOnly, positiveInt } from '../args.js';
import type { Command } from '../context.js';
import { UsageError } from '../io.js';

/** What timeout(1) exits with when the command ran out of time. */
export const EXIT_TIMED_OUT = 124;

/** `berth exec ID [--timeout MS] -- cmd args...`: the command's exit code becomes berth's. */
export const exec: Command = async (p, { io, client }) => {
  allowOnly(p, ['timeout']);
  const [id, ...extra] = p.positionals;
  if (id === undefined) throw new UsageError('exec needs a container id: berth exec ID -- command args...');
  if (extra.length > 0 || p.rest === undefined) throw new UsageError('put the command after --: berth exec ID -- command args...');
  if (p.rest.length === 0) throw new UsageError('no command after --');
  const timeoutMs = positiveInt(p.values.timeout, 'timeout');
  const container = await (await client()).containers.get(id);
  const result = await container.exec(p.rest, { timeoutMs });
  io.out(result.stdout);
  io.err(result.stderr);
  if (result.truncated) io.err('berth: output was truncated at 1 MiB per stream\n');
  if (result.timedOut) {
    io.err(`berth: command timed out after ${timeoutMs ?? 'the default'} ms\n`);
    return EXIT_TIMED_OUT;
  }
  return result.exitCode ?? 1;
};
