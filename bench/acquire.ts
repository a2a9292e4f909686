// pnpm bench:acquire — warm claim through the HTTP API vs a cold `docker run`, measured in one run.
import { execFileSync } from 'node:child_process';
import { report } from './lib/report.js';
import { startLocalStack, type LocalStack } from '../test/support/local-stack.js';
import { round, summary } from './lib/stats.js';

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 40);
const WAVES = Number(process.env.BENCH_WAVES ?? 4);
const CONCURRENCY = 32;
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 10);
const IMAGE = process.env.WORKSPACE_IMAGE ?? 'berth/workspace:latest';
const POOL_SIZE = 40;

async function api(stack: LocalStack, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function timedClaim(stack: LocalStack): Promise<{ ms: number; id: string; warm: boolean }> {
  const t0 = performance.now();
  const c = await api(stack, 'POST', '/api/containers', {});
  return { ms: performance.now() - t0, id: String(c.id), warm: c.warm === true };
}

async function waitWarm(stack: LocalStack, n: number): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const { pools } = (await api(stack, 'GET', '/api/pools')) as { pools: { warm: number }[] };
    if ((pools[0]?.warm ?? 0) >= n) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`pool did not reach ${n} warm containers`);
}

async function release(stack: LocalStack, ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => api(stack, 'DELETE', `/api/containers/${id}`)));
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

const stack = await startLocalStack({
  POOLS: JSON.stringify([{ name: 'default', targetSize: POOL_SIZE, minSize: 1, maxCreating: 8, memoryMb: 64, pids: 64 }]),
  MAX_CONTAINERS: String(POOL_SIZE + CONCURRENCY + 8),
});
try {
  const cold = coldDockerRun();
  let coldFallbacks = 0;

  await waitWarm(stack, POOL_SIZE);
  const seq: number[] = [];
  const seqIds: string[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    if (i > 0 && i % 30 === 0) { await release(stack, seqIds.splice(0)); await waitWarm(stack, POOL_SIZE); }
    const c = await timedClaim(stack);
    if (c.warm) seq.push(c.ms); else coldFallbacks += 1;
    seqIds.push(c.id);
  }
  await release(stack, seqIds);

  const c32: number[] = [];
  for (let w = 0; w < WAVES; w++) {
    await waitWarm(stack, POOL_SIZE);
    const wave = await Promise.all(Array.from({ length: CONCURRENCY }, () => timedClaim(stack)));
    for (const c of wave) if (c.warm) c32.push(c.ms); else coldFallbacks += 1;
    await release(stack, wave.map((c) => c.id));
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
  report('acquire', figures, [
    { measure: 'warm claim via HTTP, concurrency 1 (p50 / p99)', value: `${s1.p50} / ${s1.p99} ms`, baseline: `docker run --rm: ${sc.p50} ms p50`, target: 'p50 < 5 ms' },
    { measure: 'warm claim via HTTP, concurrency 32 (p50 / p99)', value: `${s32.p50} / ${s32.p99} ms`, baseline: '', target: 'p99 < 25 ms' },
    { measure: 'speedup vs cold docker run (p50)', value: `${figures.speedup_vs_docker_run}x`, baseline: '', target: '≥ 50x' },
  ], { sequential: s1, concurrent32: s32, coldDockerRun: sc, coldFallbacks });
} finally {
  await stack.stop();
}
