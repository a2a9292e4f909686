// Pause and resume figures (issue 16 §3), measured against a cold create of the same run.
import type { JsonClient } from '../lib/http-client.js';
import { percentile, round } from '../lib/stats.js';

export interface WorkspaceBenchContext {
  client: JsonClient;
  /** Samples per figure. */
  runs: number;
}

const firstExec = (client: JsonClient, id: string) => client.ok('POST', `/api/containers/${id}/exec`, { command: 'true', timeout: 10_000 });

/**
 * `cold_create_p50_ms`: a cold create (`pool: false`) until its first command answered.
 * `resume_p50_ms`: POST …/resume until the first command after it answered.
 * `pause_release_s`: POST …/pause until its answer, which comes after the workspace's memory left
 * the host budget (the budget moves in the same Redis step as the state).
 */
export async function measure(ctx: WorkspaceBenchContext): Promise<Record<string, number>> {
  const { client, runs } = ctx;
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
  return {
    cold_create_p50_ms: round(percentile(cold, 50)),
    resume_p50_ms: round(percentile(resume, 50)),
    pause_release_s: round(percentile(release, 50) / 1000, 3),
  };
}
