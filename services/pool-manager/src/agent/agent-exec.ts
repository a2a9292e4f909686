import type { ExecProcess, SpawnOptions } from '../driver/exec-process.js';
import { BACKSTOP_GRACE_MS } from '../exec-run.js';
import type { AgentConnection } from './agent-connection.js';
import { encodeJson } from './frames.js';

/** How long an agent may take to accept a command before its connection is dropped (which cancels it). */
const ACCEPT_TIMEOUT_MS = 2_000;
/**
 * How long a kill waits for the agent's exit report (and so the command's 137) before it closes the
 * connection, which kills the tree too but leaves no exit code. The agent's kill walks /proc, which
 * on a loaded machine with many processes has taken over 2 s.
 */
const KILL_GRACE_MS = 5_000;

/**
 * Runs `argv` on an idle connection of the workspace's agent (docker/agent/PROTOCOL.md): one
 * connection per command. A terminal gets a PTY (`script` in the workspace). Undefined when the
 * agent did not accept it (its connection was stale: the agent died meanwhile): the command never
 * ran, so the caller may run it elsewhere.
 */
export async function agentSpawn(conn: AgentConnection, argv: string[], opts: SpawnOptions): Promise<ExecProcess | undefined> {
  const { socket, decoder } = conn;
  // The agent's own timer is the backstop for when pool-manager is gone; pool-manager kills first.
  const backstop = opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs + BACKSTOP_GRACE_MS };
  socket.write(
    encodeJson({
      type: 'exec',
      argv,
      env: opts.env ?? {},
      cwd: opts.cwd ?? '/workspace',
      ...backstop,
      ...(opts.tty && { tty: opts.tty }),
      ...(opts.maxOutputBytes !== undefined && { maxOutputBytes: opts.maxOutputBytes }),
    }),
  );

  let timer: NodeJS.Timeout | undefined;
  const accepted = await Promise.race([
    conn.accepted,
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ACCEPT_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!accepted) {
    conn.destroy();
    return undefined;
  }

  let killing: Promise<void> | undefined;
  return {
    output: decoder,
    exitCode: async () => {
      await conn.ended;
      const code = conn.exit?.exitCode;
      // The agent is the workspace's: anything but a plausible exit status is no status.
      return Number.isSafeInteger(code) && code! >= 0 && code! <= 255 ? code! : null;
    },
    truncated: () => ({ stdout: conn.exit?.stdoutTruncated === true, stderr: conn.exit?.stderrTruncated === true }),
    write: (data) => {
      if (opts.tty && socket.writable) socket.write(encodeJson({ type: 'input', data: data.toString('base64') }));
    },
    resize: (cols, rows) => {
      if (opts.tty && socket.writable) socket.write(encodeJson({ type: 'resize', cols, rows }));
      return Promise.resolve();
    },
    kill: () => {
      killing ??= (async () => {
        if (socket.writable) socket.write(encodeJson({ type: 'kill' }));
        // The agent reports the exit once the tree is dead; closing the socket also kills it.
        const timer = setTimeout(() => socket.destroy(), KILL_GRACE_MS);
        await conn.ended;
        clearTimeout(timer);
      })();
      return killing;
    },
  };
}
