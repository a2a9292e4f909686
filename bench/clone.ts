// pnpm bench:clone — cloning a repository with a long history from upstream (the fake GitHub over
// git smart HTTP) beside cloning it from repo-cache's local bare mirror, in the same run, with the
// same checked-out working tree.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cloneBare } from '@berth/repo-cache';
import { FakeGitHub } from '../test/support/fake-github.js';
import { gitEnv } from '../test/support/git-fixtures.js';
import { report } from './lib/report.js';
import { round, summary } from './lib/stats.js';

const run = promisify(execFile);
const SAMPLES = Number(process.env.BENCH_CLONE_SAMPLES ?? 3);
const REPO = 'bench/big';
const opts = {
  files: Number(process.env.BENCH_CLONE_FILES ?? 50),
  fileLines: Number(process.env.BENCH_CLONE_FILE_LINES ?? 1000),
  commits: Number(process.env.BENCH_CLONE_COMMITS ?? 6000),
};

const tmp = mkdtempSync(join(tmpdir(), 'berth-bench-clone-'));
const gh = await FakeGitHub.start();
let n = 0;

async function timed(args: string[]): Promise<{ ms: number; files: number }> {
  const dest = join(tmp, `clone-${n++}`);
  const t0 = performance.now();
  await run('git', ['clone', '--quiet', ...args, dest], { env: gitEnv(tmp), maxBuffer: 16 * 1024 * 1024 });
  const ms = performance.now() - t0;
  const files = readdirSync(dest, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.parentPath.includes('.git')).length;
  rmSync(dest, { recursive: true, force: true });
  return { ms, files };
}

async function du(path: string): Promise<number> {
  const { stdout } = await run('du', ['-sk', path]);
  return Number(stdout.split('\t')[0]) / 1024;
}

try {
  const t0 = performance.now();
  const { historyBytes } = await gh.createBigRepo(REPO, opts);
  const generateS = (performance.now() - t0) / 1000;
  const url = gh.cloneUrl(REPO);
  const mirror = join(tmp, 'mirrors', `${REPO}.git`);
  const m0 = performance.now();
  await cloneBare({ url: () => url, proxy: undefined, timeoutMs: 600_000 }, REPO, mirror, undefined);
  const mirrorCreateMs = performance.now() - m0;

  const upstream: number[] = [];
  const local: number[] = [];
  const reference: number[] = [];
  const localReference: number[] = [];
  const trees = new Set<number>();
  for (let i = 0; i < SAMPLES; i++) {
    // Interleaved, so a slow moment of the machine hits every variant alike.
    const u = await timed(['--branch', 'main', '--', url]);
    const l = await timed(['--no-hardlinks', '--branch', 'main', '--', mirror]);
    const r = await timed(['--reference', mirror, '--dissociate', '--branch', 'main', '--', url]);
    const lr = await timed(['--reference', mirror, '--dissociate', '--branch', 'main', '--', mirror]);
    upstream.push(u.ms);
    local.push(l.ms);
    reference.push(r.ms);
    localReference.push(lr.ms);
    for (const x of [u, l, r, lr]) trees.add(x.files);
  }
  if (trees.size !== 1) throw new Error(`the clones checked out different trees: ${[...trees].join(', ')} files`);
  const up = summary(upstream).p50;
  const mir = summary(local).p50;
  const ref = summary(reference).p50;
  const figures = {
    clone_upstream_ms: round(up, 0),
    clone_mirror_ms: round(mir, 0),
    clone_speedup: round(up / mir, 1),
    clone_reference_dissociate_ms: round(ref, 0),
    clone_mirror_reference_dissociate_ms: round(summary(localReference).p50, 0),
  };
  const mirrorMb = round(await du(mirror), 1);
  report(
    'clone',
    figures,
    [
      {
        measure: 'clone from the local mirror (`--no-hardlinks`), p50',
        value: `${figures.clone_mirror_ms} ms`,
        baseline: `${figures.clone_upstream_ms} ms from upstream over HTTP`,
        target: '≥ 10x faster',
      },
      { measure: 'speedup mirror vs upstream', value: `${figures.clone_speedup}x`, target: '≥ 10' },
      {
        measure: 'clone from upstream `--reference <mirror> --dissociate`, p50',
        value: `${figures.clone_reference_dissociate_ms} ms`,
        baseline: `${figures.clone_upstream_ms} ms`,
      },
      {
        measure: 'clone from the mirror `--reference <mirror> --dissociate` (repacks a copy), p50',
        value: `${figures.clone_mirror_reference_dissociate_ms} ms`,
        baseline: `${figures.clone_upstream_ms} ms`,
      },
      {
        measure: 'repo',
        value: `${opts.commits + 1} commits, ${mirrorMb} MB mirror, ${round(historyBytes / 2 ** 20, 1)} MB of file versions, ${[...trees][0]} files checked out`,
      },
    ],
    {
      samples: SAMPLES,
      repo: opts,
      generateS: round(generateS, 1),
      mirrorCreateMs: round(mirrorCreateMs, 0),
      mirrorMb,
      upstream: summary(upstream),
      mirror: summary(local),
      referenceDissociate: summary(reference),
      mirrorReferenceDissociate: summary(localReference),
    },
    { mergeInto: 'setup' },
  );
} finally {
  await gh.stop();
  rmSync(tmp, { recursive: true, force: true });
}
