// A PTY without native modules: util-linux `script` owns the pseudo-terminal and runs the command
// on it; the size is set on the terminal's slave side with `stty -F`, which, as a real resize
// does, sends SIGWINCH to the foreground process group.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile, spawn } from './expendable.mjs';

const quote = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

/** Starts argv on a new PTY; the process's stdin is the keyboard, its stdout the screen. */
export function spawnPty(argv, options) {
  return spawn('script', ['-qfec', argv.map(quote).join(' '), '/dev/null'], { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The terminal (`/dev/pts/N`) that `script` (pid) gave its child, once the child exists. */
export async function ptySlave(pid, timeoutMs = 2_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== pid) continue;
        const tty = readlinkSync(`/proc/${name}/fd/0`);
        if (tty.startsWith('/dev/pts/')) return tty;
      } catch {
        /* gone, or not ours */
      }
    }
    await sleep(5);
  }
  return undefined;
}

/** Sets the terminal's size; resolves when done (or failed: the terminal may be gone). */
export function resizePty(tty, cols, rows) {
  return new Promise((resolve) => execFile('stty', ['-F', tty, 'rows', String(rows), 'cols', String(cols)], () => resolve()));
}
