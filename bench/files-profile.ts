// pnpm bench:files-profile — where a file transfer's CPU goes: a 64 MB upload and download through
// the gateway and 1,000-entry lists, each phase with the CPU time (user + system, from /proc) that
// the gateway, nats-server, pool-manager, the workspace's agent and this client spent on it. On a
// 2-core machine throughput is CPU: the process with the most seconds per phase is the one to work
// on. BENCH_CPU_PROF=<dir> also writes V8 CPU profiles of every service; BENCH_IMAGE picks the
// workspace image (one whose agent has file support); BENCH_FILE_RUNS sets the transfers per phase.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { startProfileRig } from './lib/profile-rig.js';
import { round, summary } from './lib/stats.js';

const SIZE = 64 * 1024 * 1024;
const RUNS = Number(process.env.BENCH_FILE_RUNS ?? 3);
const LISTS = Number(process.env.BENCH_LISTS ?? 50);
const TICK_S = 0.01; // USER_HZ is 100 on Linux

const rig = await startProfileRig('bench-files-profile', {
  POOLS: JSON.stringify([
    { name: 'default', targetSize: 1, maxCreating: 1, memoryMb: 512, pids: 256, ...(process.env.BENCH_IMAGE && { image: process.env.BENCH_IMAGE }) },
  ]),
});
const { stack, client } = rig;

/** utime + stime of a process, in seconds. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_S;
}

/** The pid of the nats-server started with this port among its arguments. */
function natsServerPid(port: number): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('nats-server') && argv.includes(String(port))) return Number(name);
    } catch {
      // gone
    }
  }
  throw new Error(`no nats-server with port ${port}`);
}

function transfer(id: string, method: 'GET' | 'PUT', path: string, body?: Buffer): Promise<number> {
  const url = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: `/api/containers/${id}/files?path=${encodeURIComponent(path)}`,
        headers: { authorization: `Bearer ${stack.token}`, ...(body && { 'content-length': body.length }) },
      },
      (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
        });
        res.on('end', () => (res.statusCode && res.statusCode < 300 ? resolve(n) : reject(new Error(`${method} ${path}: ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

try {
  await client.waitWarm(1);
  const id = String((await client.ok('POST', '/api/containers', {})).id);
  const ref = execFileSync('docker', ['ps', '-q', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();
  const top = execFileSync('docker', ['top', ref, '-eo', 'pid,args'], { encoding: 'utf8' });
  const agentPid = Number(/^\s*(\d+)\s+node\s+\S*berth-agent\.mjs/m.exec(top)?.[1]);
  if (!agentPid) throw new Error(`no agent among the workspace's processes:\n${top}`);
  const pids = {
    gateway: stack.gateway.pid!,
    natsServer: natsServerPid(stack.nats.port),
    poolManager: stack.poolManager.pid!,
    agent: agentPid,
    client: process.pid,
  };

  const phase = async (times: number, fn: () => Promise<unknown>) => {
    const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuOf(pid)]));
    const walls: number[] = [];
    for (let i = 0; i < times; i++) {
      const t0 = performance.now();
      await fn();
      walls.push(performance.now() - t0);
    }
    const cpuS = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, round((cpuOf(pid) - before[k]!) / times, 3)]));
    return { walls, wallMs: summary(walls), cpuSecondsPerRun: cpuS };
  };

  const data = randomBytes(SIZE);
  await transfer(id, 'PUT', 'warmup', data.subarray(0, 4 * 1024 * 1024));
  await transfer(id, 'GET', 'warmup');
  const upload = await phase(RUNS, () => transfer(id, 'PUT', 'bench.bin', data));
  const download = await phase(RUNS, async () => {
    const n = await transfer(id, 'GET', 'bench.bin');
    if (n !== SIZE) throw new Error(`read ${n} bytes of ${SIZE}`);
  });
  await client.ok('POST', `/api/containers/${id}/exec`, {
    command: 'mkdir -p /workspace/many && cd /workspace/many && for i in $(seq 1 1000); do : > f$i; done',
  });
  for (let i = 0; i < 5; i++) await client.ok('GET', `/api/containers/${id}/files/list?path=many`);
  const list = await phase(LISTS, () => client.ok('GET', `/api/containers/${id}/files/list?path=many`));
  const mbPerS = (p: typeof upload) => round(SIZE / 2 ** 20 / (Math.min(...p.walls) / 1000));
  console.log(
    JSON.stringify(
      {
        date: new Date().toISOString(),
        load: readFileSync('/proc/loadavg', 'utf8').trim(),
        upload: { mbPerS: mbPerS(upload), ...upload },
        download: { mbPerS: mbPerS(download), ...download },
        list,
        ...(rig.cpuProfiles && { cpuProfiles: rig.cpuProfiles }),
      },
      null,
      2,
    ),
  );
} catch (err) {
  console.error(stack.outputTail());
  throw err;
} finally {
  await rig.stop();
}
