import { lstat } from 'node:fs/promises';
import { connect } from 'node:net';
import type { ExecProcess, SpawnOptions } from '../driver/exec-process.js';
import { BACKSTOP_GRACE_MS } from '../exec-run.js';
import { AgentDecoder, encodeJson, type AgentMessage } from './frames.js';

/** How long a connected agent may take to say hello before the command goes to `docker exec`. */
const HELLO_TIMEOUT_MS = 1_000;

/**
 * Starts `argv` through the workspace's agent (docker/agent/PROTOCOL.md), one connection per
 * command. Resolves undefined when there is no agent to talk to (no socket, refused, no hello):
 * the caller falls back to `docker exec`. A terminal gets a PTY (`script` in the workspace).
 */
export async function agentSpawn(socketPath: string, argv: string[], opts: SpawnOptions): Promise<ExecProcess | undefined> {
  // A socket, not a link the workspace put there to some other host socket.
  const st = await lstat(socketPath).catch(() => undefined);
  if (!st?.isSocket()) return undefined;

  let exit: Extract<AgentMessage, { type: 'exit' }> | undefined;
  let hello!: () => void;
  const greeted = new Promise<void>((resolve) => { hello = resolve; });
  const decoder = new AgentDecoder((msg) => {
    if (msg.type === 'hello' && msg.agent === 'berth') hello();
    else if (msg.type === 'exit') exit = msg;
  });
  const socket = connect(socketPath);
  socket.pipe(decoder);
  socket.on('error', (err) => decoder.destroy(err));
  // Closed without an end (destroyed): the output is over all the same.
  socket.on('close', () => { if (!decoder.writableEnded) decoder.end(); });
  const ended = new Promise<void>((resolve) => {
    decoder.once('end', resolve);
    decoder.once('close', resolve);
    decoder.once('error', () => resolve());
  });

  // Nothing is written before the agent has spoken: a foreign server never receives a byte.
  let timer: NodeJS.Timeout | undefined;
  const ok = await Promise.race([
    greeted.then(() => true),
    ended.then(() => false),
    new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), HELLO_TIMEOUT_MS); }),
  ]);
  clearTimeout(timer);
  if (!ok) {
    socket.destroy();
    return undefined;
  }
  // The agent's own timer is the backstop for when pool-manager is gone; pool-manager kills first.
  const backstop = opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs + BACKSTOP_GRACE_MS };
  socket.write(encodeJson({ type: 'exec', argv, env: opts.env ?? {}, cwd: opts.cwd ?? '/workspace', ...backstop, ...(opts.tty && { tty: opts.tty }) }));

  let killing: Promise<void> | undefined;
  return {
    output: decoder,
    exitCode: async () => {
      await ended;
      return exit?.exitCode ?? null;
    },
    write: (data) => { if (opts.tty && socket.writable) socket.write(encodeJson({ type: 'input', data: data.toString('base64') })); },
    resize: (cols, rows) => {
      if (opts.tty && socket.writable) socket.write(encodeJson({ type: 'resize', cols, rows }));
      return Promise.resolve();
    },
    kill: () => {
      killing ??= (async () => {
        if (socket.writable) socket.write(encodeJson({ type: 'kill' }));
        // The agent reports the exit once the tree is dead; closing the socket also kills it.
        const backstop = setTimeout(() => socket.destroy(), 2_000);
        await ended;
        clearTimeout(backstop);
      })();
      return killing;
    },
  };
}
