// pnpm bench:acquire — warm claim through the HTTP API vs a cold `docker run`, measured in one run.
import { execFileSync } from 'node:child_process';
import { report } from './lib/report.js';
import { startLocalStack } from '../test/support/local-stack.js';
import { JsonClient } from './lib/http-client.js';
import { round, summary } from './lib/stats.js';

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 40);
const WAVES = Number(process.env.BENCH_WAVES ?? 4);
const CONCURRENCY = 32;
const WARMUP_WAVES = Number(process.env.BENCH_WARMUP_WAVES ?? 3);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 10);
const IMAGE = process.env.WORKSPACE_IMAGE ?? 'berth/workspace:latest';
const POOL_SIZE = 40;
/**
 * Scoped LLM keys as in production: written when a warm workspace is made, registered with egress
 * (a real egress process) when it is claimed. BENCH_LLM_KEYS=0: keys off, no egress.
 */
const LLM_KEYS = process.env.BENCH_LLM_KEYS !== '0';

async function timedClaim(): Promise<{ ms: number; id: string; warm: boolean }> {
  const t0 = performance.now();
  const c = await client.ok('POST', '/api/containers', {});
  return { ms: performance.now() - t0, id: String(c.id), warm: c.warm === true };
}

async function release(ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => client.ok('DELETE', `/api/containers/${id}`)));
}

function coldDockerRun(): number[] {
  const times: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const t0 = performance.now();
    execFileSync('docker', ['run', '--rm', '--network', 'none', IMAGE, 'true'], { stdio: 'ignore' });
    times.push(performance.now() - t0);
  }
  return times;
}

const stack = await startLocalStack(
  {
    POOLS: JSON.stringify([{ name: 'default', targetSize: POOL_SIZE, minSize: 1, maxCreating: 8, memoryMb: 64, pids: 64 }]),
    MAX_CONTAINERS: String(POOL_SIZE + CONCURRENCY + 8),
    ...(!LLM_KEYS && { LLM_KEYS_ENABLED: 'false' }),
    // log-streamer at its production rescan interval (tests shorten it to see containers sooner).
  },
  'warn',
  { logStreamerEnv: { LOGS_RESCAN_INTERVAL_MS: '10000' }, ...(LLM_KEYS && { egress: { githubUrl: 'http://127.0.0.1:9' } }) },
);
const client = new JsonClient(stack.url, stack.token);
try {
  const cold = coldDockerRun();
  let coldFallbacks = 0;

  // Warm-up, untimed: JIT of every process on the path, and the client's keep-alive sockets.
  for (let w = 0; w < WARMUP_WAVES; w++) {
    await client.waitWarm(POOL_SIZE);
    const warmup = await Promise.all(Array.from({ length: CONCURRENCY }, () => timedClaim()));
    await release(warmup.map((c) => c.id));
  }

  await client.waitWarm(POOL_SIZE);
  const seq: number[] = [];
  const seqIds: string[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    if (i > 0 && i % 30 === 0) {
      await release(seqIds.splice(0));
      await client.waitWarm(POOL_SIZE);
    }
    const c = await timedClaim();
    if (c.warm) seq.push(c.ms);
    else coldFallbacks += 1;
    seqIds.push(c.id);
  }
  await release(seqIds);

  const c32: number[] = [];
  for (let w = 0; w < WAVES; w++) {
    await client.waitWarm(POOL_SIZE);
    const wave = await Promise.all(Array.from({ length: CONCURRENCY }, () => timedClaim()));
    for (const c of wave)
      if (c.warm) c32.push(c.ms);
      else coldFallbacks += 1;
    await release(wave.map((c) => c.id));
  }

  const s1 = summary(seq);
  const s32 = summary(c32);
  const sc = summary(cold);
  const figures = {
    warm_claim_p50_ms: s1.p50,
    warm_claim_p99_ms: s1.p99,
    warm_claim_p50_ms_c32: s32.p50,
    warm_claim_p99_ms_c32: s32.p99,
    cold_docker_run_p50_ms: sc.p50,
    speedup_vs_docker_run: round(sc.p50 / s1.p50, 1),
  };
  report(
    'acquire',
    figures,
    [
      {
        measure: 'warm claim via HTTP, concurrency 1 (p50 / p99)',
        value: `${s1.p50} / ${s1.p99} ms`,
        baseline: `docker run --rm: ${sc.p50} ms p50`,
        target: 'p50 < 5 ms',
      },
      { measure: 'warm claim via HTTP, concurrency 32 (p50 / p99)', value: `${s32.p50} / ${s32.p99} ms`, baseline: '', target: 'p99 < 25 ms' },
      { measure: 'speedup vs cold docker run (p50)', value: `${figures.speedup_vs_docker_run}x`, baseline: '', target: '≥ 50x' },
    ],
    { sequential: s1, concurrent32: s32, coldDockerRun: sc, coldFallbacks, llmKeys: LLM_KEYS },
  );
} catch (err) {
  console.error(stack.outputTail());
  throw err;
} finally {
  client.close();
  await stack.stop();
}
