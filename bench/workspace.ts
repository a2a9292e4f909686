// pnpm bench:workspace — what agents do in a workspace (issue 16): each part measures itself
// (bench/workspace/*.ts) against the same stack and baselines in the same run. BENCH_PARTS=preview
// runs one part. Writes bench/results/workspace.json.
import { startLocalStack } from '../test/support/local-stack.js';
import { report, type BenchRow } from './lib/report.js';
import { measure as preview } from './workspace/preview.js';

const PARTS = new Set((process.env.BENCH_PARTS ?? 'preview').split(','));

const stack = await startLocalStack({
  POOLS: JSON.stringify([{ name: 'default', targetSize: 0, maxCreating: 2, memoryMb: 128, pids: 64 }]),
  MAX_CONTAINERS: '4',
  ...(process.env.WORKSPACE_NETWORK && { WORKSPACE_NETWORK: process.env.WORKSPACE_NETWORK }),
}, 'warn');
const figures: Record<string, number> = {};
const rows: BenchRow[] = [];
const detail: Record<string, unknown> = {};
try {
  const ctx = { stack };
  if (PARTS.has('preview')) {
    const r = await preview(ctx);
    Object.assign(figures, r.figures);
    rows.push(...r.rows);
    detail.preview = r.detail;
  }
  report('workspace', figures, rows, detail, { mergeInto: 'workspace' });
} finally {
  await stack.stop();
}
