// pnpm bench:claim-profile — where a warm claim at concurrency 32 spends its time. In the same run,
// interleaved wave by wave (so a loaded machine weighs on every layer alike), 32 concurrent:
//   http   POST /api/containers through the gateway (what bench:acquire's c32 figure measures)
//   nats   containerCreate straight to pool-manager over NATS (no gateway)
//   bus    a NATS request/reply to an echo in this process (the transport alone)
//   redis  one HGETALL of a workspace record (one Redis round trip)
// http − nats is the gateway's share, nats − bus pool-manager's claim path, redis its floor per
// round trip. BENCH_CPU_PROF=<dir> writes V8 CPU profiles of every service into <dir> (open them in
// Chrome DevTools or speedscope). BENCH_LLM_KEYS=0 turns LLM keys (and egress) off, as in acquire.
import { randomBytes } from 'node:crypto';
import { request } from '@berth/service-kit';
import { startProfileRig } from './lib/profile-rig.js';
import { round, summary } from './lib/stats.js';

const WAVES = Number(process.env.BENCH_WAVES ?? 6);
const CONCURRENCY = 32;
const POOL_SIZE = 40;
const LLM_KEYS = process.env.BENCH_LLM_KEYS !== '0';
const rig = await startProfileRig(
  'bench-claim-profile',
  {
    POOLS: JSON.stringify([{ name: 'default', targetSize: POOL_SIZE, minSize: 1, maxCreating: 8, memoryMb: 64, pids: 64 }]),
    MAX_CONTAINERS: String(POOL_SIZE + 2 * CONCURRENCY + 8),
    ...(!LLM_KEYS && { LLM_KEYS_ENABLED: 'false' }),
  },
  { logStreamerEnv: { LOGS_RESCAN_INTERVAL_MS: '10000' }, ...(LLM_KEYS && { egress: { githubUrl: 'http://127.0.0.1:9' } }) },
);
const { stack, client, nc, redis } = rig;

const timed = async <T>(f: () => Promise<T>): Promise<{ ms: number; v: T }> => {
  const t0 = performance.now();
  const v = await f();
  return { ms: performance.now() - t0, v };
};
const wave = <T>(f: () => Promise<T>) => Promise.all(Array.from({ length: CONCURRENCY }, () => timed(f)));
const owner = 'default';

try {
  const samples: Record<'http' | 'nats' | 'bus' | 'redis', number[]> = { http: [], nats: [], bus: [], redis: [] };
  let cold = 0;
  for (let w = -2; w < WAVES; w++) {
    const keep = w >= 0;
    await client.waitWarm(POOL_SIZE);
    const http = await wave(() => client.ok('POST', '/api/containers', {}));
    await Promise.all(http.map(({ v }) => request(nc, 'containerDelete', { id: String(v.id), owner }, { timeoutMs: 60_000 })));
    await client.waitWarm(POOL_SIZE);
    const direct = await wave(() => request(nc, 'containerCreate', { requestId: `bench-${randomBytes(8).toString('hex')}`, owner }, { timeoutMs: 30_000 }));
    const someId = direct[0]!.v.id;
    const bus = await wave(rig.bus);
    const rtt = await wave(() => redis.hgetall(`berth:host:${stack.hostId}:ws:${someId}`));
    await Promise.all(direct.map(({ v }) => request(nc, 'containerDelete', { id: v.id, owner }, { timeoutMs: 60_000 })));
    if (!keep) continue;
    for (const c of http)
      if (c.v.warm === true) samples.http.push(c.ms);
      else cold += 1;
    for (const c of direct)
      if (c.v.warm) samples.nats.push(c.ms);
      else cold += 1;
    samples.bus.push(...bus.map((c) => c.ms));
    samples.redis.push(...rtt.map((c) => c.ms));
  }
  const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v)])) as Record<keyof typeof samples, ReturnType<typeof summary>>;
  const share = (a: keyof typeof s, b: keyof typeof s) => ({ p50: round(s[a].p50 - s[b].p50), p99: round(s[a].p99 - s[b].p99) });
  console.log(
    JSON.stringify(
      {
        date: new Date().toISOString(),
        concurrency: CONCURRENCY,
        waves: WAVES,
        llmKeys: LLM_KEYS,
        coldFallbacks: cold,
        layers: s,
        shares: {
          gateway: share('http', 'nats'),
          poolManagerClaim: share('nats', 'bus'),
          natsRoundTrip: { p50: s.bus.p50, p99: s.bus.p99 },
          redisRoundTrip: { p50: s.redis.p50, p99: s.redis.p99 },
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
