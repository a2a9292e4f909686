// berth-agent: connects to the unix socket pool-manager listens on in this workspace's read-only
// /run/berth (no network port) and runs the commands it sends there, without `docker exec`. Plain
// Node 22 or later (pool-manager's AGENT_MIN_NODE_MAJOR), no dependencies. Protocol:
// docker/agent/PROTOCOL.md.
// Usage: berth-agent.mjs [--socket PATH] (default /run/berth/agent.sock); berth-agent-entrypoint.sh
// runs it beside the container's command.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { constants } from 'node:os';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { startFiles } from './files.mjs';
import { ptySlave, resizePty, spawnPty } from './pty.mjs';
import { spawn } from './expendable.mjs';

export const VERSION = 2;
/** Request kinds beyond protocol 2's `exec`, announced in the hello (a pool-manager ignores what it does not know). */
export const FEATURES = ['files', 'watch'];
export const KIND = { json: 0, stdout: 1, stderr: 2 };
const MAX_FRAME = 1024 * 1024;
const MARKER_VAR = 'BERTH_EXEC_ID';
/**
 * Each command runs under tini as a child subreaper: whatever it starts stays below it, even after
 * setsid and a double fork. The static build when the image has it: no dynamic loading per exec.
 */
const TINI = ['/usr/bin/tini-static', '/usr/bin/tini'].find((p) => existsSync(p));
/** Connections kept open and idle, each waiting for one exec (pool-manager accepts a few more). */
const IDLE_CONNECTIONS = 2;
/**
 * A connection taken while others are still idle is replaced once its command ends, or after this
 * long: a short command does not share the workspace's CPU with a connect and a hello.
 */
const REFILL_DELAY_MS = 1_000;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2_000;
/** One frame: 4-byte big-endian length of what follows, 1 byte kind, payload. */
export function frame(kind, payload) {
  const body = typeof payload === 'string' || !Buffer.isBuffer(payload) ? Buffer.from(JSON.stringify(payload)) : payload;
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head[4] = kind;
  return Buffer.concat([head, body]);
}

/**
 * Writes one frame; output bytes go out in one writev with their head, never copied into a frame
 * (a download's 512 kB reads were copied once more here). Returns what socket.write returns.
 */
export function writeFrame(socket, kind, payload) {
  if (!Buffer.isBuffer(payload)) return socket.write(frame(kind, payload));
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32BE(payload.length + 1, 0);
  head[4] = kind;
  socket.cork();
  socket.write(head);
  const room = socket.write(payload);
  socket.uncork();
  return room;
}

/**
 * Feeds bytes, calls onFrame(kind, payload) per whole frame; throws on an oversized frame. The
 * pieces of a frame still arriving are kept as a list and joined once it is whole (joining at
 * every read copied a large upload frame several times over).
 */
export function frameReader(onFrame) {
  let pending = Buffer.alloc(0);
  const parts = [];
  let partsLength = 0;
  return (chunk) => {
    if (parts.length) {
      parts.push(chunk);
      partsLength += chunk.length;
      if (partsLength < 4 + pending.readUInt32BE(0)) return;
      pending = Buffer.concat(parts, partsLength);
      parts.length = 0;
      partsLength = 0;
    } else {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    }
    while (pending.length >= 4) {
      const size = pending.readUInt32BE(0);
      if (size < 1 || size > MAX_FRAME) throw new Error(`bad frame size ${size}`);
      if (pending.length < 4 + size) {
        parts.push(pending);
        partsLength = pending.length;
        pending = pending.subarray(0, 4);
        break;
      }
      const kind = pending[4];
      const payload = pending.subarray(5, 4 + size);
      pending = pending.subarray(4 + size);
      onFrame(kind, payload);
    }
  };
}

/** ppid of every process (one pass over /proc). */
function parents() {
  const ppids = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      ppids.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  return ppids;
}

/** Every process below `root` (not `root` itself). */
function descendants(root) {
  const children = new Map();
  for (const [pid, ppid] of parents()) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const found = [];
  const queue = [root];
  while (queue.length)
    for (const c of children.get(queue.shift()) ?? []) {
      found.push(c);
      queue.push(c);
    }
  return found;
}

/** Pids of every process carrying this exec's marker (readable: they run as our user). */
function markedPids(marker) {
  const needle = Buffer.from(`${MARKER_VAR}=${marker}\0`);
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`);
      if (env.indexOf(needle) === 0 || env.includes(Buffer.concat([Buffer.from([0]), needle]))) pids.push(Number(name));
    } catch {
      /* gone, or not ours */
    }
  }
  return pids;
}

const signal = (pid, sig) => {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
};

/**
 * Kills everything the exec started (`root`: its tini, or `script` above it for a terminal). First
 * every process below it (tini is a subreaper: orphans,
 * setsid'd and double-forked ones included, are reparented to it) and every marked process is
 * stopped, round after round until a round finds no new one, so nothing forks or escapes meanwhile;
 * then all of them are killed, tini last (once its child dies it exits and would hand orphans to PID 1).
 */
async function killTree(root, marker) {
  const stopped = new Set();
  for (let round = 0; round < 100; round++) {
    const fresh = [...descendants(root), ...markedPids(marker)].filter((p) => p !== root && !stopped.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      signal(p, 'SIGSTOP');
      stopped.add(p);
    }
  }
  for (const p of stopped) signal(p, 'SIGKILL');
  signal(root, 'SIGKILL');
  // Marked processes that were never below this tini (none expected): until none is left.
  for (let round = 0; round < 40; round++) {
    const pids = markedPids(marker);
    if (pids.length === 0) return;
    for (const p of pids) {
      signal(-p, 'SIGKILL');
      signal(p, 'SIGKILL');
    }
    await sleep(25);
  }
}

const exitCodeOf = (code, sig) => code ?? (sig ? 128 + (constants.signals[sig] ?? 0) : null);

/**
 * Serves one connection to pool-manager: says hello, waits for one exec, calls `onTaken(closed)` (so
 * a replacement connection opens; `closed` resolves when this one has ended) and reports the
 * command's output and exit. `onIdleClose` runs when the connection ends without an exec.
 */
function serveConnection(socket, onTaken, onIdleClose) {
  const closed = new Promise((resolve) => socket.once('close', resolve));
  let child;
  let files;
  let marker;
  let finished = false;
  let killed;
  const truncated = { stdout: false, stderr: false };
  // Terminal input and resizes, in order: keystrokes after a resize see the new size.
  let terminal = Promise.resolve(undefined);
  const send = (kind, payload) => (socket.writable ? writeFrame(socket, kind, payload) : true);
  const kill = () => {
    if (child?.pid && !finished) killed ??= killTree(child.pid, marker);
  };
  socket.on('close', () => {
    if (files) files.close();
    else if (child) kill();
    else onIdleClose();
  }); // pool-manager went away: cancel
  socket.on('error', () => socket.destroy());
  socket.on('drain', () => {
    child?.stdout.resume();
    child?.stderr.resume();
  });
  send(KIND.json, { type: 'hello', agent: 'berth', version: VERSION, pid: process.pid, features: FEATURES });

  const start = (req) => {
    marker = randomBytes(12).toString('hex');
    const env = { ...process.env, ...req.env, [MARKER_VAR]: marker };
    const cwd = req.cwd ?? '/workspace';
    if (!Array.isArray(req.argv) || req.argv.length === 0) return fail('argv must be a non-empty array');
    if (!existsSync(cwd) || !statSync(cwd).isDirectory()) return fail(`cwd ${cwd}: no such directory`, 126);
    const argv = TINI ? [TINI, '-s', '--', ...req.argv] : req.argv;
    if (req.tty) {
      child = spawnPty(argv, { cwd, env: { ...env, TERM: 'xterm-256color' }, detached: true });
      child.stdin.on('error', () => undefined);
      const slave = ptySlave(child.pid);
      terminal = slave.then(async (tty) => {
        if (tty) await resizePty(tty, req.tty.cols, req.tty.rows);
        return tty;
      });
    } else {
      child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    }
    // Past the cap nothing more is sent: the command is killed (the first, synchronous round of
    // killTree stops and kills the whole tree), what is left in that pipe is dropped, and the exit
    // says which stream was cut. The other stream is still delivered up to the end (or its own cap).
    const cap = Number.isSafeInteger(req.maxOutputBytes) && req.maxOutputBytes > 0 ? req.maxOutputBytes : Infinity;
    const sent = { stdout: 0, stderr: 0 };
    for (const [name, kind] of [
      ['stdout', KIND.stdout],
      ['stderr', KIND.stderr],
    ]) {
      child[name].on('data', (data) => {
        if (truncated[name]) return;
        const room = cap - sent[name];
        const part = data.length <= room ? data : data.subarray(0, room);
        sent[name] += part.length;
        const full = part.length > 0 && !send(kind, part);
        if (part.length < data.length) {
          truncated[name] = true;
          kill();
        } else if (full) {
          child.stdout.pause();
          child.stderr.pause();
        }
      });
    }
    let timedOut = false;
    const timer =
      req.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            kill();
          }, req.timeoutMs)
        : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(`${argv[0]}: ${err.code === 'ENOENT' ? 'executable file not found' : err.message}`, err.code === 'ENOENT' ? 127 : 126);
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      if (finished) return;
      finished = true;
      send(KIND.json, { type: 'exit', exitCode: exitCodeOf(code, sig), timedOut, stdoutTruncated: truncated.stdout, stderrTruncated: truncated.stderr });
      socket.end();
    });
  };
  const fail = (message, exitCode = 126) => {
    if (finished) return;
    finished = true;
    send(KIND.stderr, Buffer.from(`berth-agent: ${message}\n`));
    send(KIND.json, { type: 'exit', exitCode, timedOut: false });
    socket.end();
  };

  const read = frameReader((kind, payload) => {
    if (kind === KIND.stdout && files) return files.data(payload);
    if (kind !== KIND.json) throw new Error('unexpected frame kind');
    const msg = JSON.parse(payload.toString('utf8'));
    if (files) return files.message(msg);
    if (msg.type === 'files' && !child && !finished) {
      onTaken(closed);
      send(KIND.json, { type: 'accepted' });
      files = startFiles(
        msg,
        {
          send,
          finish: () => {
            finished = true;
            socket.end();
          },
          onDrain: (fn) => socket.once('drain', fn),
          pauseInput: () => socket.pause(),
          resumeInput: () => socket.resume(),
        },
        KIND,
      );
    } else if (msg.type === 'exec' && !child && !finished) {
      // Before anything runs: a connection that ends without this never ran the command.
      send(KIND.json, { type: 'accepted' });
      // The replacement connection after the spawn: not on the command's way.
      try {
        start(msg);
      } finally {
        onTaken(closed);
      }
    } else if (msg.type === 'kill') kill();
    else if (msg.type === 'input' && child?.stdin) {
      const data = Buffer.from(String(msg.data), 'base64');
      terminal = terminal.then((tty) => {
        if (child.stdin.writable) child.stdin.write(data);
        return tty;
      });
    } else if (msg.type === 'resize' && child?.stdin) {
      terminal = terminal.then(async (tty) => {
        if (tty) await resizePty(tty, Number(msg.cols), Number(msg.rows));
        return tty;
      });
    }
  });
  socket.on('data', (chunk) => {
    try {
      read(chunk);
    } catch {
      socket.destroy();
    }
  });
}

/**
 * Keeps `idle` connections to pool-manager's socket open, each waiting for an exec; a connection
 * that takes one is replaced (REFILL_DELAY_MS says when). A missing or refusing socket (pool-manager restarting) and a
 * connection closed without an exec are retried with a growing backoff. Returns a stop function.
 */
export function serve(path, idle = IDLE_CONNECTIONS) {
  let open = 0;
  let stopped = false;
  let delay = RETRY_MIN_MS;
  let retry;
  const sockets = new Set();
  const later = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      fill();
    }, delay);
    delay = Math.min(delay * 2, RETRY_MAX_MS);
  };
  const fill = () => {
    while (!stopped && !retry && open < idle) {
      open += 1;
      let counted = true;
      const release = () => {
        if (counted) {
          counted = false;
          open -= 1;
        }
      };
      const socket = connect(path);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      const refused = () => {
        release();
        later();
      };
      socket.once('error', refused);
      socket.once('connect', () => {
        socket.off('error', refused);
        serveConnection(
          socket,
          (closed) => {
            release();
            delay = RETRY_MIN_MS;
            // The last idle one taken: replaced at once, so the next command does not wait.
            if (open === 0) fill();
            else void Promise.race([closed, sleep(REFILL_DELAY_MS, undefined, { ref: false })]).then(fill);
          },
          () => {
            if (counted) refused();
          },
        );
      });
    }
  };
  fill();
  return () => {
    stopped = true;
    clearTimeout(retry);
    for (const s of sockets) s.destroy();
  };
}

/** True when `dir` is a mount point (pool-manager mounted its directory there). */
function mounted(dir) {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[4] === dir);
  } catch {
    return false;
  }
}

function main() {
  const i = process.argv.indexOf('--socket');
  const socketPath = i > 0 ? process.argv[i + 1] : '/run/berth/agent.sock';
  // Without the directory pool-manager mounts there is no one to serve: exit 0 (not restarted).
  if (i < 0 && !mounted(socketPath.slice(0, socketPath.lastIndexOf('/')))) return;
  const stop = serve(socketPath);
  process.on('SIGTERM', () => {
    stop();
    process.exit(0);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) main();
