// Runs INSIDE a workspace (bench/exec-profile.ts copies it there): plays pool-manager's side of the
// agent protocol against one or more agent modules (argv[2]: `label=path,label=path`), each on its
// own socket in /tmp, and times one `true` exec per agent per round, the agents taking turns so a
// loaded machine weighs on each alike: exec frame → accepted → exit frame → connection end. Beside
// them, bare spawns of `true` with and without the per-exec subreaper, for the spawn's share.
// Prints one JSON line of samples (ms).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [agentsArg, roundsArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg ?? 60);
const agents = agentsArg.split(',').map((a) => {
  const [label, path] = a.split('=');
  return { label, path };
});

/** One agent's socket: connections that said hello wait in `idle`. */
async function listen(agent) {
  const { serve, frame, frameReader, KIND } = await import(agent.path);
  const idle = [];
  const waiters = [];
  const offer = (conn) => {
    const w = waiters.shift();
    if (w) w(conn);
    else idle.push(conn);
  };
  const server = createServer((socket) => {
    const conn = { socket, onMessage: undefined, onEnd: undefined };
    let greeted = false;
    const read = frameReader((kind, payload) => {
      if (kind !== KIND.json) return;
      const msg = JSON.parse(payload.toString('utf8'));
      if (!greeted && msg.type === 'hello') {
        greeted = true;
        offer(conn);
        return;
      }
      conn.onMessage?.(msg);
    });
    socket.on('data', (c) => read(c));
    socket.on('close', () => {
      const i = idle.indexOf(conn);
      if (i >= 0) idle.splice(i, 1);
      conn.onEnd?.();
    });
    socket.on('error', () => undefined);
  });
  const path = `/tmp/berth-bench-${randomBytes(6).toString('hex')}.sock`;
  await new Promise((r) => server.listen(path, r));
  const stop = serve(path);
  const take = () => (idle.length ? Promise.resolve(idle.shift()) : new Promise((r) => waiters.push(r)));
  const execOnce = async () => {
    const conn = await take();
    return new Promise((resolve) => {
      const t0 = performance.now();
      const t = { accepted: NaN, exit: NaN, end: NaN };
      conn.onMessage = (msg) => {
        if (msg.type === 'accepted') t.accepted = performance.now() - t0;
        if (msg.type === 'exit') t.exit = performance.now() - t0;
      };
      conn.onEnd = () => {
        t.end = performance.now() - t0;
        resolve(t);
      };
      conn.socket.write(frame(KIND.json, { type: 'exec', argv: ['true'], env: {}, cwd: '/workspace', timeoutMs: 60_000, maxOutputBytes: 1 << 20 }));
    });
  };
  return {
    execOnce,
    close: () => {
      stop();
      server.close();
    },
  };
}

const spawnOnce = (cmd, args) =>
  new Promise((resolve) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    c.on('close', () => resolve(performance.now() - t0));
  });

const served = await Promise.all(agents.map(listen));
const samples = { spawnTrue: [], spawnTini: [], spawnTiniStatic: [] };
for (const a of agents) for (const k of ['accepted', 'exit', 'end']) samples[`${a.label}.${k}`] = [];
for (let i = -5; i < ROUNDS; i++) {
  for (const [j, a] of agents.entries()) {
    const t = await served[j].execOnce();
    if (i >= 0) for (const k of ['accepted', 'exit', 'end']) samples[`${a.label}.${k}`].push(t[k]);
  }
  const bare = await spawnOnce('true', []);
  const tini = await spawnOnce('/usr/bin/tini', ['-s', '--', 'true']);
  const tiniStatic = await spawnOnce('/usr/bin/tini-static', ['-s', '--', 'true']);
  if (i < 0) continue;
  samples.spawnTrue.push(bare);
  samples.spawnTini.push(tini);
  samples.spawnTiniStatic.push(tiniStatic);
}
for (const s of served) s.close();
process.stdout.write(JSON.stringify(samples) + '\n');
process.exit(0);
