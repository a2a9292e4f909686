// pnpm bench:setup — repository setup through the real stack (gateway, pool-manager, repo-cache,
// egress, real Docker) against a local fake GitHub: a cold setup (no mirror, no node_modules seed)
// beside a cached one (mirror and seed present) of the same repository and one from the repo's
// main image on another branch, and a claim from a repo warm pool (kept on the repo's main image)
// to ready on another branch, in the same run. Then the same app with 20,000 more files: its setup
// from the main image, which must not copy the tree (BENCH_BIG_FILES sets the count, 0 skips it).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mainImageTag, SetupStatusSchema, type SetupStatus } from '@berth/contracts';
import { seedVolumeName } from '@berth/pool-manager';
import { NODE_APP_FIXTURE, seedKey, startSetupFixture } from '../test/support/setup-fixture.js';
import { report } from './lib/report.js';
import { percentile, round } from './lib/stats.js';

const REPOS = Number(process.env.BENCH_SETUP_REPOS ?? 3);
const TOKEN = `ghp_${'BenchSetupToken'.repeat(2)}`;

const POOL_RUNS = Number(process.env.BENCH_REPO_POOL_RUNS ?? 5);
const BIG_FILES = Number(process.env.BENCH_BIG_FILES ?? 20_000);
const names = Array.from({ length: REPOS }, (_, i) => `bench-${process.pid}/app${i}`);
const bigName = `bench-${process.pid}/big`;
// The repo pool names the first repo: pool image until its main image exists, the main image after.
const POOLS = [
  { name: 'default', targetSize: 1, maxCreating: 2, memoryMb: 512, pids: 256 },
  { name: 'repo', repo: names[0], targetSize: 1, maxCreating: 1, memoryMb: 512, pids: 256 },
];
const f = await startSetupFixture(TOKEN, { SETUP_START_TIMEOUT_MS: '60000', POOLS: JSON.stringify(POOLS) }, { withEgress: true, imageBuilder: true });

/** POST to ready, as the caller sees it (GET polled every 25 ms). */
async function timedSetup(repo: string, extra: Record<string, unknown> = {}): Promise<{ seconds: number; status: SetupStatus; id: string }> {
  const { id } = await f.client.claim();
  const started = performance.now();
  const r = await f.client.api('POST', `/api/containers/${id}/setup`, { repo, branch: 'main', githubToken: TOKEN, ...extra });
  if (r.status !== 202) throw new Error(`setup ${repo}: ${r.status} ${r.text}`);
  const status = await awaitReady(id);
  return { seconds: (performance.now() - started) / 1000, status, id };
}

/** Polls GET .../setup every 25 ms until ready. */
async function awaitReady(id: string): Promise<SetupStatus> {
  for (;;) {
    const status = SetupStatusSchema.parse((await f.client.api('GET', `/api/containers/${id}/setup`)).json());
    if (status.phase === 'failed') throw new Error(`setup of ${id} failed: ${JSON.stringify(status)}`);
    if (status.phase === 'ready') return status;
    await new Promise((res) => setTimeout(res, 25));
  }
}

/** Waits until the repo pool has a warm container (refills are not timed). */
async function poolWarm(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const pools = (await f.client.api('GET', '/api/pools')).json() as { pools: { name: string; warm: number }[] };
    if ((pools.pools.find((p) => p.name === 'repo')?.warm ?? 0) >= 1) return;
    if (Date.now() > deadline) throw new Error('repo pool not refilled');
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * Claim from the repo pool → setup POST (another branch) → ready, as the caller sees it. Warm
 * containers made before the main image existed are drained first (not timed).
 */
async function repoPoolRuns(repo: string, runs: number): Promise<{ ms: number; status: SetupStatus }[]> {
  const tag = mainImageTag(repo)!;
  const out: { ms: number; status: SetupStatus }[] = [];
  for (let drained = 0; out.length < runs;) {
    await poolWarm();
    const started = performance.now();
    const c = await f.client.api('POST', '/api/containers', { pool: 'repo' });
    if (c.status !== 201) throw new Error(`claim from the repo pool: ${c.status} ${c.text}`);
    const { id, image } = c.json() as { id: string; image: string };
    if (image !== tag) {
      if (++drained > 5) throw new Error(`repo pool does not fill from ${tag}`);
      await f.client.api('DELETE', `/api/containers/${id}`);
      continue;
    }
    const r = await f.client.api('POST', `/api/containers/${id}/setup`, { repo, branch: 'feature/bench', githubToken: TOKEN });
    if (r.status !== 202) throw new Error(`setup from the repo pool: ${r.status} ${r.text}`);
    const status = await awaitReady(id);
    const ms = performance.now() - started;
    if (status.source !== 'repo-pool') throw new Error(`not from the repo pool: ${JSON.stringify(status)}`);
    out.push({ ms, status });
    await f.client.api('DELETE', `/api/containers/${id}`);
  }
  return out;
}

/** Waits for the background node_modules seed copy of the last install (the cached setup uses it). */
async function seedSaved(repo: string): Promise<void> {
  const volume = seedVolumeName(f.stack.hostId, 'default', repo);
  const deadline = Date.now() + 60_000;
  while (!seedKey(volume)) {
    if (Date.now() > deadline) throw new Error(`no node_modules seed for ${repo}\n${f.stack.outputTail()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** The node app with `count` more small files in 100 directories: a tree whose copy would take seconds. */
function bigFixture(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-big-'));
  cpSync(NODE_APP_FIXTURE, dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const sub = join(dir, 'src', 'many', `d${i % 100}`);
    if (i < 100) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.js`), `export const n${i} = ${i};\n`);
  }
  return dir;
}

/**
 * Cold setup (building the main image) of a repo of `count` more files, then a timed setup of
 * another branch from that image: how long a big main image's workspace takes to be ready.
 */
async function bigMainImage(count: number): Promise<{ seconds: number; status: SetupStatus }> {
  const dir = bigFixture(count);
  try {
    await f.github.createRepo(bigName, { fromDir: dir, token: TOKEN });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const first = await timedSetup(bigName, { buildMainImage: true });
  await mainImageBuilt(bigName);
  await f.client.api('DELETE', `/api/containers/${first.id}`);
  await f.github.commit(bigName, { 'NOTES.md': 'branch work\n' }, { branch: 'feature/bench' });
  const fromImage = await timedSetup(bigName, { branch: 'feature/bench', hasMainImage: true });
  if (fromImage.status.source !== 'main-image') throw new Error(`not from the main image: ${JSON.stringify(fromImage.status)}`);
  await f.client.api('DELETE', `/api/containers/${fromImage.id}`);
  return fromImage;
}

/** Waits until image-builder has committed the repo's main image. */
async function mainImageBuilt(repo: string): Promise<void> {
  const tag = mainImageTag(repo)!;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      execFileSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`no main image ${tag}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }
}

try {
  for (const name of names) await f.github.createRepo(name, { fromDir: NODE_APP_FIXTURE, token: TOKEN });
  const cold: { seconds: number; status: SetupStatus }[] = [];
  const cached: { seconds: number; status: SetupStatus }[] = [];
  const mainImage: { seconds: number; status: SetupStatus }[] = [];
  for (const name of names) {
    const c = await timedSetup(name, { buildMainImage: true });
    cold.push(c);
    await seedSaved(name);
    const cc = await timedSetup(name);
    cached.push(cc);
    await mainImageBuilt(name);
    for (const id of [c.id, cc.id]) await f.client.api('DELETE', `/api/containers/${id}`);
    await f.github.commit(name, { 'NOTES.md': 'branch work\n' }, { branch: 'feature/bench' });
    const fromImage = await timedSetup(name, { branch: 'feature/bench', hasMainImage: true });
    if (fromImage.status.source !== 'main-image') throw new Error(`not from the main image: ${JSON.stringify(fromImage.status)}`);
    mainImage.push(fromImage);
    await f.client.api('DELETE', `/api/containers/${fromImage.id}`);
  }
  const repoPool = await repoPoolRuns(names[0]!, POOL_RUNS);
  const big = BIG_FILES > 0 ? await bigMainImage(BIG_FILES) : undefined;
  const bigS = big ? round(big.seconds, 2) : undefined;
  const median = (xs: number[]) => round(percentile(xs, 50), 2);
  const repoPoolMs = Math.round(
    percentile(
      repoPool.map((r) => r.ms),
      50,
    ),
  );
  const coldS = median(cold.map((c) => c.seconds));
  const mainImageS = median(mainImage.map((c) => c.seconds));
  const cachedS = median(cached.map((c) => c.seconds));
  const phases = (runs: { status: SetupStatus }[]) =>
    Object.fromEntries(['queued', 'cloning', 'installing', 'starting'].map((p) => [p, median(runs.map((r) => r.status.durations[p] ?? 0))]));
  report(
    'setup',
    {
      setup_cold_s: coldS,
      setup_cached_s: cachedS,
      setup_main_image_s: mainImageS,
      repo_pool_claim_to_ready_ms: repoPoolMs,
      ...(bigS !== undefined && { setup_main_image_big_s: bigS, setup_main_image_big_files: BIG_FILES }),
    },
    [
      { measure: `setup POST → ready, cold (no mirror, no node_modules seed), median of ${REPOS} repos`, value: `${coldS} s` },
      {
        measure: 'setup POST → ready, cached (mirror + node_modules seed of the same lockfile)',
        value: `${cachedS} s`,
        baseline: `cold ${coldS} s`,
        target: 'faster than cold',
      },
      { measure: 'setup POST → ready from the main image, another branch (same lockfile)', value: `${mainImageS} s`, baseline: `cold ${coldS} s` },
      {
        measure: `claim from a repo warm pool → setup POST (another branch) → ready, median of ${POOL_RUNS}`,
        value: `${repoPoolMs} ms`,
        baseline: `main-image setup ${mainImageS} s`,
      },
      ...(bigS !== undefined
        ? [
            {
              measure: `setup POST → ready from the main image of the app with ${BIG_FILES} more files, another branch`,
              value: `${bigS} s`,
              baseline: `main-image setup of the app alone ${mainImageS} s`,
              target: '≤ 2 s',
            },
          ]
        : []),
    ],
    {
      repoPool: repoPool.map((r) => ({ ms: Math.round(r.ms), durations: r.status.durations })),
      repoPoolPhasesMs: phases(repoPool),
      cold: cold.map((c) => ({ s: round(c.seconds, 3), durations: c.status.durations })),
      cached: cached.map((c) => ({ s: round(c.seconds, 3), durations: c.status.durations })),
      coldPhasesMs: phases(cold),
      cachedPhasesMs: phases(cached),
      mainImagePhasesMs: phases(mainImage),
      ...(big && { bigMainImageDurations: big.status.durations }),
    },
    { mergeInto: 'setup' },
  );
} finally {
  await f.stop();
  for (const name of [...names, bigName]) {
    try {
      execFileSync('docker', ['rmi', '-f', mainImageTag(name)!], { stdio: 'ignore' });
    } catch {
      /* not built */
    }
  }
}
