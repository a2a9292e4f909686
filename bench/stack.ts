// pnpm bench:stack — the dev compose stack: cold start to healthy, hot reload, idle footprint, image sizes.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@berth/service-kit/testing';
import { docker } from '../test/stack/docker.js';
import { devStackServices, presentServices, startDevStack, type TestStack } from '../test/stack/stack.js';
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

const mb = (s: string) => {
  const [n = '0', unit = 'MiB'] = s.match(/([\d.]+)\s*([KMG]i?B)/)?.slice(1) ?? [];
  return Number(n) * ({ KiB: 1 / 1024, MiB: 1, GiB: 1024, kB: 1 / 1000, MB: 1, GB: 1000 }[unit] ?? 1);
};

async function idle(stack: TestStack): Promise<Record<string, { rssMb: number; cpuPct: number }>> {
  const out: Record<string, { rssMb: number; cpuPct: number }> = {};
  for (let sample = 0; sample < 3; sample++) {
    for (const s of SERVICES) {
      const [mem = '', cpu = '0'] = (await docker('stats', '--no-stream', '--format', '{{.MemUsage}}|{{.CPUPerc}}', await stack.container(s))).split('|');
      const prev = out[s] ?? { rssMb: 0, cpuPct: 0 };
      out[s] = { rssMb: Math.max(prev.rssMb, round(mb(mem.split('/')[0] ?? ''), 1)), cpuPct: Math.max(prev.cpuPct, round(parseFloat(cpu), 2)) };
    }
  }
  return out;
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
  // Back to the committed code, then let the pool settle before measuring idle.
  while ((await healthVersion(stack.url)).startsWith('reload-')) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 10_000));
  const usage = await idle(stack);
  const figures = {
    stack_start_s: startS,
    hot_reload_s: reloadS,
    idle_rss_mb_max: Math.max(...Object.values(usage).map((u) => u.rssMb)),
    idle_cpu_pct_max: Math.max(...Object.values(usage).map((u) => u.cpuPct)),
    image_size_mb_max: Math.max(...Object.values(sizes)),
  };
  report(
    'stack',
    figures,
    [
      { measure: `cold start to all healthy (scripts/stack up, images present; ${SERVICES.join(', ')})`, value: `${startS} s`, target: '< 30 s' },
      { measure: 'hot reload: save gateway source → new code answers', value: `${reloadS} s`, target: '< 2 s' },
      {
        measure: 'idle memory per container (max)',
        value: Object.entries(usage)
          .map(([s, u]) => `${s} ${u.rssMb} MB`)
          .join(', '),
        target: '< 80 MB',
      },
      {
        measure: 'idle CPU per container (max of 3 samples)',
        value: Object.entries(usage)
          .map(([s, u]) => `${s} ${u.cpuPct}%`)
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
