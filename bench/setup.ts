// pnpm bench:setup — repository setup through the real stack (gateway, pool-manager, repo-cache,
// egress, real Docker) against a local fake GitHub: a cold setup (no mirror, no node_modules seed)
// beside a cached one (mirror and seed present) of the same repository and one from the repo's
// main image on another branch, in the same run.
import { execFileSync } from 'node:child_process';
import { mainImageTag, SetupStatusSchema, type SetupStatus } from '@berth/contracts';
import { seedVolumeName } from '../services/pool-manager/src/setup/setup-commands.js';
import { NODE_APP_FIXTURE, seedKey, startSetupFixture } from '../test/support/setup-fixture.js';
import { report } from './lib/report.js';
import { percentile, round } from './lib/stats.js';

const REPOS = Number(process.env.BENCH_SETUP_REPOS ?? 3);
const TOKEN = `ghp_${'BenchSetupToken'.repeat(2)}`;

const f = await startSetupFixture(TOKEN, { SETUP_START_TIMEOUT_MS: '60000' }, { withEgress: true, imageBuilder: true });

/** POST to ready, as the caller sees it (GET polled every 25 ms). */
async function timedSetup(repo: string, extra: Record<string, unknown> = {}): Promise<{ seconds: number; status: SetupStatus; id: string }> {
  const { id } = await f.client.claim();
  const started = performance.now();
  const r = await f.client.api('POST', `/api/containers/${id}/setup`, { repo, branch: 'main', githubToken: TOKEN, ...extra });
  if (r.status !== 202) throw new Error(`setup ${repo}: ${r.status} ${r.text}`);
  for (;;) {
    const g = await f.client.api('GET', `/api/containers/${id}/setup`);
    const status = SetupStatusSchema.parse(g.json());
    if (status.phase === 'failed') throw new Error(`setup ${repo} failed: ${JSON.stringify(status)}`);
    if (status.phase === 'ready') return { seconds: (performance.now() - started) / 1000, status, id };
    await new Promise((res) => setTimeout(res, 25));
  }
}

/** Waits for the background node_modules seed copy of the last install (the cached setup uses it). */
async function seedSaved(repo: string): Promise<void> {
  const volume = seedVolumeName(f.stack.hostId, 'default', repo);
  const deadline = Date.now() + 60_000;
  while (!seedKey(volume)) {
    if (Date.now() > deadline) throw new Error(`no node_modules seed for ${repo}`);
    await new Promise((res) => setTimeout(res, 100));
  }
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

const names = Array.from({ length: REPOS }, (_, i) => `bench-${process.pid}/app${i}`);
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
  const median = (xs: number[]) => round(percentile(xs, 50), 2);
  const coldS = median(cold.map((c) => c.seconds));
  const mainImageS = median(mainImage.map((c) => c.seconds));
  const cachedS = median(cached.map((c) => c.seconds));
  const phases = (runs: { status: SetupStatus }[]) => Object.fromEntries(
    ['queued', 'cloning', 'installing', 'starting'].map((p) => [p, median(runs.map((r) => r.status.durations[p] ?? 0))]),
  );
  report('setup', { setup_cold_s: coldS, setup_cached_s: cachedS, setup_main_image_s: mainImageS }, [
    { measure: `setup POST → ready, cold (no mirror, no node_modules seed), median of ${REPOS} repos`, value: `${coldS} s` },
    { measure: 'setup POST → ready, cached (mirror + node_modules seed of the same lockfile)', value: `${cachedS} s`, baseline: `cold ${coldS} s`, target: 'faster than cold' },
    { measure: 'setup POST → ready from the main image, another branch (same lockfile)', value: `${mainImageS} s`, baseline: `cold ${coldS} s` },
    { measure: 'claim from a repo warm pool → ready', value: 'not measured: per-repo warm pools are not built yet' },
  ], { cold: cold.map((c) => ({ s: round(c.seconds, 3), durations: c.status.durations })), cached: cached.map((c) => ({ s: round(c.seconds, 3), durations: c.status.durations })), coldPhasesMs: phases(cold), cachedPhasesMs: phases(cached), mainImagePhasesMs: phases(mainImage) }, { mergeInto: 'setup' });
} finally {
  await f.stop();
  for (const name of names) {
    try { execFileSync('docker', ['rmi', '-f', mainImageTag(name)!], { stdio: 'ignore' }); } catch { /* not built */ }
  }
}
