import { allowOnly } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';

/** Ctrl-D: what a terminal sends for end of input. */
const EOT = '\x04';

/**
 * `berth shell ID`: an interactive shell in the workspace. The local terminal goes raw (keys,
 * Ctrl-C and all go to the remote shell), window size changes follow, and the shell's exit code
 * becomes berth's.
 */
export const shell: Command = async (p, { io, client }) => {
  allowOnly(p, []);
  const [id, ...extra] = p.positionals;
  if (id === undefined || extra.length > 0) throw new UsageError('shell needs one container id: berth shell ID');
  if (!io.tty) throw new UsageError('shell needs a terminal');
  const { stdin, stdout, onResize } = io.tty;
  const container = await (await client()).containers.get(id);
  const term = await container.terminal({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  const onInput = (d: Buffer) => term.write(d);
  const onEnd = () => term.write(EOT);
  stdin.on('data', onInput);
  stdin.on('end', onEnd);
  stdin.resume();
  term.onData((d) => stdout.write(d));
  const stopResize = onResize(() => term.resize(stdout.columns || 80, stdout.rows || 24));
  try {
    const { code } = await term.exited;
    return code ?? EXIT.failed;
  } finally {
    stopResize();
    stdin.off('data', onInput);
    stdin.off('end', onEnd);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  }
};
