// pnpm bench:stack — the dev compose stack: cold start to healthy, hot reload, idle footprint, image sizes.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@berth/service-kit/testing';
import { docker } from '../test/stack/docker.js';
import { devStackServices, presentServices, startDevStack, type TestStack } from '../test/stack/stack.js';
import { containerUsage } from './lib/container-usage.js';
import { report } from './lib/report.js';
import { round } from './lib/stats.js';

const SERVICES = devStackServices();
const IMAGES = [
  ...presentServices().map((s) => `berth/${s}:${process.env.BERTH_IMAGE_TAG ?? 'dev'}`),
  process.env.NATS_IMAGE ?? 'berth/nats:2.10',
  process.env.REDIS_IMAGE ?? 'berth/redis:7',
];
const versionFile = join(repoRoot(), 'services', 'gateway', 'src', 'version.ts');

async function healthVersion(url: string): Promise<string> {
  const body = await fetch(`${url}/health`).then(
    (r) => r.json() as Promise<{ version?: string }>,
    () => ({ version: '' }),
  );
  return body.version ?? '';
}

/** Saves a change to the gateway's source and times until the new code answers /health. */
async function hotReload(stack: TestStack): Promise<number> {
  const original = readFileSync(versionFile, 'utf8');
  const marker = `reload-${Date.now()}`;
  try {
    const t0 = performance.now();
    writeFileSync(versionFile, original.replace('= pkg.version;', `= '${marker}';`));
    while ((await healthVersion(stack.url)) !== marker) {
      if (performance.now() - t0 > 60_000) throw new Error('hot reload did not happen in 60 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    return (performance.now() - t0) / 1000;
  } finally {
    writeFileSync(versionFile, original);
  }
}

const IDLE_WINDOW_S = Number(process.env.BENCH_IDLE_WINDOW_S ?? 30);
const IDLE_SLICE_S = 5;

/** Waits until every pool is settled (warm = target, nothing creating): only then is the stack idle. */
async function poolsSettled(stack: TestStack): Promise<void> {
  const deadline = performance.now() + 120_000;
  for (;;) {
    // The gateway may still be restarting from the hot reload: a refused or cut request is "not yet".
    const pools = await fetch(`${stack.url}/api/pools`, { headers: { authorization: `Bearer ${stack.token}` } }).then(
      async (res) => (res.ok ? ((await res.json()) as { pools: { warm: number; creating: number; targetSize: number }[] }).pools : undefined),
      () => undefined,
    );
    if (pools?.every((p) => p.warm >= p.targetSize && p.creating === 0)) return;
    if (performance.now() > deadline) throw new Error(`pools did not settle in 120 s: ${JSON.stringify(pools)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Idle {
  /** CPU over the whole window, % of one core. */
  cpuPct: number;
  /** The busiest IDLE_SLICE_S slice of the window, % of one core. */
  cpuPeakPct: number;
  /** Highest memory seen (as docker stats counts it), MB. */
  rssMb: number;
}

/**
 * Each container's CPU from its cgroup's usage counter over IDLE_WINDOW_S, read every IDLE_SLICE_S:
 * the mean is the idle cost (health probes included, since `docker exec` runs them in the
 * container's cgroup); the peak is the busiest slice, so a burst every few seconds shows.
 */
async function idle(stack: TestStack): Promise<Record<string, Idle>> {
  const ids = Object.fromEntries(
    await Promise.all(SERVICES.map(async (s) => [s, await docker('inspect', '-f', '{{.Id}}', await stack.container(s))] as const)),
  );
  const reads = () => ({ at: performance.now(), usage: Object.fromEntries(SERVICES.map((s) => [s, containerUsage(ids[s] ?? '')])) });
  const samples = [reads()];
  for (let t = 0; t < IDLE_WINDOW_S; t += IDLE_SLICE_S) {
    await new Promise((r) => setTimeout(r, IDLE_SLICE_S * 1000));
    samples.push(reads());
  }
  const pct = (a: (typeof samples)[number], b: (typeof samples)[number], s: string) =>
    (((b.usage[s]?.cpuNs ?? 0) - (a.usage[s]?.cpuNs ?? 0)) / 1e6 / (b.at - a.at)) * 100;
  const first = samples[0] ?? reads();
  const last = samples.at(-1) ?? first;
  return Object.fromEntries(
    SERVICES.map((s) => [
      s,
      {
        cpuPct: round(pct(first, last, s), 2),
        cpuPeakPct: round(Math.max(...samples.slice(1).map((b, i) => pct(samples[i] ?? b, b, s))), 2),
        rssMb: round(Math.max(...samples.map((x) => x.usage[s]?.memMb ?? 0)), 1),
      },
    ]),
  );
}

execFileSync(join(repoRoot(), 'scripts', 'build-images'), { stdio: 'inherit' });
const sizes = Object.fromEntries(
  await Promise.all(IMAGES.map(async (i) => [i, round(Number(await docker('image', 'inspect', '-f', '{{.Size}}', i)) / 1e6, 1)] as const)),
);

const loadAtStart = round(loadavg()[0] ?? 0, 1);
const t0 = performance.now();
const stack = await startDevStack({ LOG_LEVEL: 'info' });
const startS = round((performance.now() - t0) / 1000, 1);
try {
  const reloadS = round(await hotReload(stack), 2);
  // Back to the committed code, then the pool settled, then a few seconds for the restarts' tail.
  while ((await healthVersion(stack.url)).startsWith('reload-')) await new Promise((r) => setTimeout(r, 100));
  await poolsSettled(stack);
  await new Promise((r) => setTimeout(r, 5_000));
  const usage = await idle(stack);
  const figures = {
    stack_start_s: startS,
    hot_reload_s: reloadS,
    idle_rss_mb_max: Math.max(...Object.values(usage).map((u) => u.rssMb)),
    idle_cpu_pct_max: Math.max(...Object.values(usage).map((u) => u.cpuPct)),
    idle_cpu_pct_peak_5s_max: Math.max(...Object.values(usage).map((u) => u.cpuPeakPct)),
    image_size_mb_max: Math.max(...Object.values(sizes)),
  };
  report(
    'stack',
    figures,
    [
      { measure: `cold start to all healthy (scripts/stack up, images present; ${SERVICES.join(', ')})`, value: `${startS} s`, target: '< 30 s' },
      { measure: 'hot reload: save gateway source → new code answers', value: `${reloadS} s`, target: '< 2 s' },
      {
        measure: 'idle memory per container (highest in the window, as docker stats counts it)',
        value: Object.entries(usage)
          .map(([s, u]) => `${s} ${u.rssMb} MB`)
          .join(', '),
        target: '≤ 80 MB',
      },
      {
        measure: `idle CPU per container: mean over ${IDLE_WINDOW_S} s once the pool is settled (cgroup CPU time; health probes included)`,
        value: Object.entries(usage)
          .map(([s, u]) => `${s} ${u.cpuPct}%`)
          .join(', '),
        target: '≤ 1 %',
      },
      {
        measure: `idle CPU per container: busiest ${IDLE_SLICE_S} s slice of that window`,
        value: Object.entries(usage)
          .map(([s, u]) => `${s} ${u.cpuPeakPct}%`)
          .join(', '),
      },
      {
        measure: 'host load average (1 min) when the run started, 2 cores',
        value: String(loadAtStart),
        target: 'figures above are comparable only at similar load',
      },
      {
        measure: 'image sizes',
        value: Object.entries(sizes)
          .map(([i, s]) => `${i} ${s} MB`)
          .join(', '),
        target: 'services < 200 MB',
      },
    ],
    { usage, sizes, loadAtStart },
  );
} finally {
  await stack.down();
}
