// berth-agent: on a unix socket that only pool-manager reaches (no network port), runs commands
// for it without `docker exec`. Plain Node 22, no dependencies. Protocol: docker/agent/PROTOCOL.md.
// Usage: berth-agent.mjs [--socket PATH] (default /run/berth/agent.sock); berth-agent-entrypoint.sh
// runs it beside the container's command.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants as fsConstants, existsSync, readdirSync, readFileSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants } from 'node:os';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { ptySlave, resizePty, spawnPty } from './pty.mjs';

export const VERSION = 1;
export const KIND = { json: 0, stdout: 1, stderr: 2 };
const MAX_FRAME = 1024 * 1024;
const MARKER_VAR = 'BERTH_EXEC_ID';

/** One frame: 4-byte big-endian length of what follows, 1 byte kind, payload. */
export function frame(kind, payload) {
  const body = typeof payload === 'string' || !Buffer.isBuffer(payload) ? Buffer.from(JSON.stringify(payload)) : payload;
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head[4] = kind;
  return Buffer.concat([head, body]);
}

/** Feeds bytes, calls onFrame(kind, payload) per whole frame; throws on an oversized frame. */
export function frameReader(onFrame) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const size = pending.readUInt32BE(0);
      if (size < 1 || size > MAX_FRAME) throw new Error(`bad frame size ${size}`);
      if (pending.length < 4 + size) break;
      const kind = pending[4];
      const payload = pending.subarray(5, 4 + size);
      pending = pending.subarray(4 + size);
      onFrame(kind, payload);
    }
  };
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
    } catch { /* gone, or not ours */ }
  }
  return pids;
}

/** Kills the exec's process group and every marked process (own sessions included) until none is left. */
async function killTree(pgid, marker) {
  try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
  for (let round = 0; round < 40; round++) {
    const pids = markedPids(marker);
    if (pids.length === 0) return;
    for (const p of pids) {
      try { process.kill(-p, 'SIGKILL'); } catch { /* not a group leader */ }
      try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    }
    await sleep(25);
  }
}

const exitCodeOf = (code, signal) => (code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : null));

/** Serves one connection: a hello, then at most one exec whose output and exit it reports. */
function serveConnection(socket) {
  let child;
  let marker;
  let finished = false;
  // Terminal input and resizes, in order: keystrokes after a resize see the new size.
  let terminal = Promise.resolve(undefined);
  const send = (kind, payload) => (socket.writable ? socket.write(frame(kind, payload)) : true);
  const kill = () => { if (child && !finished) void killTree(child.pid, marker); };
  socket.on('close', kill); // pool-manager went away: cancel
  socket.on('error', () => socket.destroy());
  socket.on('drain', () => { child?.stdout.resume(); child?.stderr.resume(); });
  send(KIND.json, { type: 'hello', agent: 'berth', version: VERSION, pid: process.pid });

  const start = (req) => {
    marker = randomBytes(12).toString('hex');
    const env = { ...process.env, ...req.env, [MARKER_VAR]: marker };
    const cwd = req.cwd ?? '/workspace';
    if (!Array.isArray(req.argv) || req.argv.length === 0) return fail('argv must be a non-empty array');
    if (!existsSync(cwd) || !statSync(cwd).isDirectory()) return fail(`cwd ${cwd}: no such directory`, 126);
    if (req.tty) {
      child = spawnPty(req.argv, { cwd, env: { ...env, TERM: 'xterm-256color' }, detached: true });
      child.stdin.on('error', () => undefined);
      const slave = ptySlave(child.pid);
      terminal = slave.then(async (tty) => { if (tty) await resizePty(tty, req.tty.cols, req.tty.rows); return tty; });
    } else {
      child = spawn(req.argv[0], req.argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    }
    for (const [name, kind] of [['stdout', KIND.stdout], ['stderr', KIND.stderr]]) {
      child[name].on('data', (data) => {
        if (!send(kind, data)) { child.stdout.pause(); child.stderr.pause(); }
      });
    }
    let timedOut = false;
    const timer = req.timeoutMs > 0 ? setTimeout(() => { timedOut = true; kill(); }, req.timeoutMs) : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(`${req.argv[0]}: ${err.code === 'ENOENT' ? 'executable file not found' : err.message}`, err.code === 'ENOENT' ? 127 : 126);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (finished) return;
      finished = true;
      send(KIND.json, { type: 'exit', exitCode: exitCodeOf(code, signal), timedOut });
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
    if (kind !== KIND.json) throw new Error('unexpected frame kind');
    const msg = JSON.parse(payload.toString('utf8'));
    if (msg.type === 'exec' && !child && !finished) start(msg);
    else if (msg.type === 'kill') kill();
    else if (msg.type === 'input' && child?.stdin) {
      const data = Buffer.from(String(msg.data), 'base64');
      terminal = terminal.then((tty) => { if (child.stdin.writable) child.stdin.write(data); return tty; });
    } else if (msg.type === 'resize' && child?.stdin) {
      terminal = terminal.then(async (tty) => { if (tty) await resizePty(tty, Number(msg.cols), Number(msg.rows)); return tty; });
    }
  });
  socket.on('data', (chunk) => {
    try { read(chunk); } catch { socket.destroy(); }
  });
}

/** Listens on `path` (a stale socket from an earlier run is replaced); pool-manager may run as another user. */
export function listen(path) {
  return new Promise((resolve, reject) => {
    try { unlinkSync(path); } catch { /* none */ }
    const server = createServer({ allowHalfOpen: false }, serveConnection);
    server.once('error', reject);
    server.listen(path, () => {
      chmodSync(path, 0o666);
      resolve(server);
    });
  });
}

async function main() {
  const i = process.argv.indexOf('--socket');
  const socketPath = i > 0 ? process.argv[i + 1] : '/run/berth/agent.sock';
  // Without the directory pool-manager mounts there is nothing to serve: exit 0 (not restarted).
  const dir = socketPath.slice(0, socketPath.lastIndexOf('/')) || '/';
  try { accessSync(dir, fsConstants.W_OK); } catch { return; }
  try {
    const server = await listen(socketPath);
    process.on('SIGTERM', () => server.close(() => process.exit(0)));
  } catch (err) {
    process.stderr.write(`berth-agent: not listening on ${socketPath}: ${err.message}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) void main();
