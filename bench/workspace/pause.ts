// Pause and resume figures (issue 16 §3), measured against a cold create of the same run.
import type { JsonClient } from '../lib/http-client.js';
import { percentile, round } from '../lib/stats.js';
import type { PartResult, WorkspaceBenchContext } from './context.js';

/** Samples per figure. */
const RUNS = Number(process.env.BENCH_PAUSE_RUNS ?? 8);

const firstExec = (client: JsonClient, id: string) => client.ok('POST', `/api/containers/${id}/exec`, { command: 'true', timeout: 10_000 });

/**
 * `cold_create_p50_ms`: a cold create (`pool: false`) until its first command answered.
 * `resume_p50_ms`: POST …/resume until the first command after it answered.
 * `pause_release_s`: POST …/pause until its answer, which comes after the workspace's memory left
 * the host budget (the budget moves in the same Redis step as the state).
 */
export async function measure(ctx: WorkspaceBenchContext): Promise<PartResult> {
  const { client } = ctx;
  const runs = RUNS;
  const cold: number[] = [];
  const resume: number[] = [];
  const release: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const c = await client.ok('POST', '/api/containers', { pool: false });
    const id = String(c.id);
    await firstExec(client, id);
    cold.push(performance.now() - t0);
    try {
      const p0 = performance.now();
      await client.ok('POST', `/api/containers/${id}/pause`);
      release.push(performance.now() - p0);
      const r0 = performance.now();
      await client.ok('POST', `/api/containers/${id}/resume`);
      await firstExec(client, id);
      resume.push(performance.now() - r0);
    } finally {
      await client.ok('DELETE', `/api/containers/${id}`);
    }
  }
  const figures = {
    cold_create_p50_ms: round(percentile(cold, 50)),
    resume_p50_ms: round(percentile(resume, 50)),
    pause_release_s: round(percentile(release, 50) / 1000, 3),
  };
  return {
    figures,
    rows: [
      {
        measure: 'resume to first exec answered (p50)',
        value: `${figures.resume_p50_ms} ms`,
        baseline: `cold create to first exec: ${figures.cold_create_p50_ms} ms`,
        target: '≤ 300 ms and ≤ 1/3 of a cold create',
      },
      { measure: 'pause until its memory left the host budget (p50)', value: `${figures.pause_release_s} s`, baseline: '', target: '≤ 1 s' },
    ],
    detail: { runs, cold, resume, release },
  };
}
