import { allowOnly, positiveInt } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';

/** What timeout(1) exits with when the command ran out of time. */
const EXIT_TIMED_OUT = 124;

/**
 * `berth exec ID [--timeout MS] -- cmd args...`: the output is shown as it comes (the streaming
 * API), the command's exit code becomes berth's, and Ctrl-C stops the command (its process group
 * in the workspace) and exits 130.
 */
export const exec: Command = async (p, { io, client }) => {
  allowOnly(p, ['timeout']);
  const [id, ...extra] = p.positionals;
  if (id === undefined) throw new UsageError('exec needs a container id: berth exec ID -- command args...');
  if (extra.length > 0 || p.rest === undefined) throw new UsageError('put the command after --: berth exec ID -- command args...');
  if (p.rest.length === 0) throw new UsageError('no command after --');
  const timeoutMs = positiveInt(p.values.timeout, 'timeout');
  const container = await (await client()).containers.get(id);
  const interrupt = new AbortController();
  const unsubscribe = io.onInterrupt?.(() => interrupt.abort());
  try {
    const result = await container.exec(p.rest, { timeoutMs, signal: interrupt.signal, onStdout: io.out, onStderr: io.err });
    if (result.timedOut) {
      io.err(`berth: command timed out after ${timeoutMs ?? 'the default'} ms\n`);
      return EXIT_TIMED_OUT;
    }
    return result.exitCode ?? EXIT.failed;
  } catch (err) {
    if (!interrupt.signal.aborted) throw err;
    io.err('berth: interrupted; the command was stopped\n');
    return EXIT.interrupted;
  } finally {
    unsubscribe?.();
  }
};
