import type { ExecProcess, SpawnOptions } from '../driver/exec-process.js';
import { BACKSTOP_GRACE_MS } from '../exec-run.js';
import type { AgentConnection } from './agent-connection.js';
import { encodeJson } from './frames.js';

/**
 * Runs `argv` on an idle connection of the workspace's agent (docker/agent/PROTOCOL.md): one
 * connection per command. A terminal gets a PTY (`script` in the workspace).
 */
export function agentSpawn(conn: AgentConnection, argv: string[], opts: SpawnOptions): ExecProcess {
  const { socket, decoder } = conn;
  // The agent's own timer is the backstop for when pool-manager is gone; pool-manager kills first.
  const backstop = opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs + BACKSTOP_GRACE_MS };
  socket.write(encodeJson({
    type: 'exec', argv, env: opts.env ?? {}, cwd: opts.cwd ?? '/workspace', ...backstop,
    ...(opts.tty && { tty: opts.tty }), ...(opts.maxOutputBytes !== undefined && { maxOutputBytes: opts.maxOutputBytes }),
  }));

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
    write: (data) => { if (opts.tty && socket.writable) socket.write(encodeJson({ type: 'input', data: data.toString('base64') })); },
    resize: (cols, rows) => {
      if (opts.tty && socket.writable) socket.write(encodeJson({ type: 'resize', cols, rows }));
      return Promise.resolve();
    },
    kill: () => {
      killing ??= (async () => {
        if (socket.writable) socket.write(encodeJson({ type: 'kill' }));
        // The agent reports the exit once the tree is dead; closing the socket also kills it.
        const timer = setTimeout(() => socket.destroy(), 2_000);
        await conn.ended;
        clearTimeout(timer);
      })();
      return killing;
    },
  };
}
