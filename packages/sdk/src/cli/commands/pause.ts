import { allowOnly } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';

/** `berth pause ID...` / `berth resume ID...`: each it can (prints its id), names the others, exits 1 if any. */
const pauseOrResume =
  (action: 'pause' | 'resume'): Command =>
  async (p, { io, client }) => {
    allowOnly(p, []);
    if (p.positionals.length === 0) throw new UsageError(`${action} needs at least one container id`);
    const berth = await client();
    let failed = 0;
    for (const id of p.positionals) {
      try {
        await (await berth.containers.get(id))[action]();
        io.out(`${id}\n`);
      } catch (err) {
        failed++;
        io.err(`berth: ${action} ${id}: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    return failed > 0 ? EXIT.failed : EXIT.ok;
  };

export const pause = pauseOrResume('pause');
export const resume = pauseOrResume('resume');
