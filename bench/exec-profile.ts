// pnpm bench:exec-profile — where one exec (`true`, one at a time) spends its time. Interleaved round
// by round, so a loaded machine weighs on every layer alike:
//   http   POST /api/containers/{id}/exec through the gateway (what bench:streams' exec figure measures)
//   nats   containerExec straight to pool-manager over NATS (no gateway)
//   bus    a NATS request/reply to an echo in this process (the transport alone)
//   redis  one HGETALL of the workspace record (one Redis round trip)
// then, in the same minute and inside the workspace (bench/lib/agent-profile-inner.mjs), the agent
// alone over its protocol (exec frame → accepted → exit → end), for the image's agent and for this
// checkout's docker/agent, beside bare spawns of `true`, `tini -s -- true` and `tini-static -s -- true`.
// http − nats is the gateway's share, nats − bus − agent pool-manager's. BENCH_CPU_PROF=<dir> writes
// V8 CPU profiles of every service. BENCH_EXEC_ROUNDS sets the rounds (default 100).
// BENCH_BASELINE_IMAGE=<image>: a second pool of that image (say, the workspace image of main), and
// each round also runs one exec through the gateway in a workspace of it: an A/B of two agents
// through the whole stack, in the same minute (`httpBaseline`).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { request } from '@berth/service-kit';
import { repoRoot } from '@berth/service-kit/testing';
import { startProfileRig } from './lib/profile-rig.js';
import { round, summary } from './lib/stats.js';

const ROUNDS = Number(process.env.BENCH_EXEC_ROUNDS ?? 100);
const AGENT_ROUNDS = Number(process.env.BENCH_AGENT_ROUNDS ?? 60);
const BASELINE_IMAGE = process.env.BENCH_BASELINE_IMAGE;
const pool = (name: string, image?: string) => ({ name, targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 128, pids: 64, ...(image && { image }) });
const rig = await startProfileRig('bench-exec-profile', {
  POOLS: JSON.stringify([pool('default'), ...(BASELINE_IMAGE ? [pool('baseline', BASELINE_IMAGE)] : [])]),
  MAX_CONTAINERS: '6',
  ...(process.env.WORKSPACE_NETWORK && { WORKSPACE_NETWORK: process.env.WORKSPACE_NETWORK }),
});
const { stack, client, nc, redis } = rig;
const owner = 'default';

const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

/** Samples by `<agent>.accepted|exit|end`, and spawnTrue, spawnTini, spawnTiniStatic. */
type AgentSamples = Record<string, number[]>;

/** The agents (`label=path`) inside container `ref`, taking turns, timed by agent-profile-inner.mjs (in `dir`). */
function agentsInside(ref: string, dir: string, agents: Record<string, string>): AgentSamples {
  const list = Object.entries(agents)
    .map(([label, path]) => `${label}=${path}`)
    .join(',');
  const out = execFileSync('docker', ['exec', ref, 'node', `${dir}/agent-profile-inner.mjs`, list, String(AGENT_ROUNDS)], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as AgentSamples;
}

/** This checkout's docker/agent and the profiler, copied into the workspace's /tmp; returns the directory. */
function copyAgent(ref: string): string {
  const dir = `/tmp/agent-${randomBytes(4).toString('hex')}`;
  const root = repoRoot();
  const tar = execFileSync('tar', ['-c', '-C', join(root, 'docker', 'agent'), '.', '-C', join(root, 'bench', 'lib'), 'agent-profile-inner.mjs']);
  execFileSync('docker', ['exec', '-i', ref, 'sh', '-c', `mkdir -p ${dir} && tar -x -C ${dir}`], { input: tar });
  return dir;
}

try {
  await client.waitWarm(1);
  const id = String((await client.ok('POST', '/api/containers', {})).id);
  const baselineId = BASELINE_IMAGE ? String((await client.ok('POST', '/api/containers', { pool: 'baseline' })).id) : undefined;
  const ref = execFileSync('docker', ['ps', '-q', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();
  const samples: Record<'http' | 'httpBaseline' | 'nats' | 'bus' | 'redis', number[]> = { http: [], httpBaseline: [], nats: [], bus: [], redis: [] };
  for (let i = -5; i < ROUNDS; i++) {
    const http = await timed(() => client.ok('POST', `/api/containers/${id}/exec`, { command: ['true'] }));
    const httpBaseline = baselineId ? await timed(() => client.ok('POST', `/api/containers/${baselineId}/exec`, { command: ['true'] })) : undefined;
    const direct = await timed(() => request(nc, 'containerExec', { id, owner, command: ['true'], timeoutMs: 30_000 }, { timeoutMs: 30_000 }));
    const bus = await timed(rig.bus);
    const rtt = await timed(() => redis.hgetall(`berth:host:${stack.hostId}:ws:${id}`));
    if (i < 0) continue;
    samples.http.push(http);
    if (httpBaseline !== undefined) samples.httpBaseline.push(httpBaseline);
    samples.nats.push(direct);
    samples.bus.push(bus);
    samples.redis.push(rtt);
  }
  const dir = copyAgent(ref);
  const agents = agentsInside(ref, dir, { image: '/opt/berth/berth-agent.mjs', checkout: `${dir}/berth-agent.mjs` });

  const sum = (o: Record<string, number[]>) =>
    Object.fromEntries(
      Object.entries(o)
        .filter(([, v]) => v.length > 0)
        .map(([k, v]) => [k, summary(v)]),
    );
  const s = sum(samples) as Record<keyof typeof samples, ReturnType<typeof summary>>;
  const a = sum(agents) as Record<string, ReturnType<typeof summary>>;
  console.log(
    JSON.stringify(
      {
        date: new Date().toISOString(),
        rounds: ROUNDS,
        agentRounds: AGENT_ROUNDS,
        ...(BASELINE_IMAGE && { baselineImage: BASELINE_IMAGE }),
        layers: s,
        agents: a,
        shares: {
          gateway: round(s.http.p50 - s.nats.p50),
          natsRoundTrip: s.bus.p50,
          redisRoundTrip: s.redis.p50,
          poolManagerBesideAgent: round(s.nats.p50 - s.bus.p50 - a['image.exit']!.p50),
          agentToExit: { image: a['image.exit']!.p50, checkout: a['checkout.exit']!.p50 },
          subreaperInSpawn: { tini: round(a.spawnTini!.p50 - a.spawnTrue!.p50), tiniStatic: round(a.spawnTiniStatic!.p50 - a.spawnTrue!.p50) },
        },
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
