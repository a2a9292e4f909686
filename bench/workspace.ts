// pnpm bench:workspace — what agents do in a workspace (issue 16): each part of bench/workspace/
// exports `measure(ctx)` and returns its figures; this runs the parts on one stack and writes
// bench/results/workspace.json. BENCH_PARTS=files runs some parts only; BENCH_IMAGE picks the
// workspace image (one whose agent has file support).
import { execFileSync } from 'node:child_process';
import { startLocalStack } from '../test/support/local-stack.js';
import { JsonClient } from './lib/http-client.js';
import { report, type BenchRow } from './lib/report.js';
import type { PartResult, WorkspaceBenchContext } from './workspace/context.js';
import * as files from './workspace/files.js';
import * as preview from './workspace/preview.js';
import * as pause from './workspace/pause.js';
import { portRange } from '@berth/service-kit/testing';

const PARTS: Record<string, { measure(ctx: WorkspaceBenchContext): Promise<PartResult> }> = { files, preview, pause };
const chosen = (process.env.BENCH_PARTS ?? Object.keys(PARTS).join(',')).split(',').filter((p) => p in PARTS);

const { lo } = portRange();
const stack = await startLocalStack(
  {
    PORT_RANGE: `${lo}-${lo + 99}`,
    POOLS: JSON.stringify([
      { name: 'default', targetSize: 2, maxCreating: 2, memoryMb: 512, pids: 256, ...(process.env.BENCH_IMAGE && { image: process.env.BENCH_IMAGE }) },
    ]),
    ...(process.env.WORKSPACE_NETWORK && { WORKSPACE_NETWORK: process.env.WORKSPACE_NETWORK }),
  },
  'warn',
  { gatewayEnv: { RATE_LIMIT_RPS: '0' } },
); // the preview part sends thousands of requests
try {
  const client = new JsonClient(stack.url, stack.token);
  const figures: Record<string, number> = {};
  const rows: BenchRow[] = [];
  const detail: Record<string, unknown> = {};
  for (const name of chosen) {
    const id = String((await client.ok('POST', '/api/containers', {})).id);
    const ref = execFileSync('docker', ['ps', '-q', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();
    const result = await PARTS[name]!.measure({ stack, client, id, ref });
    Object.assign(figures, result.figures);
    rows.push(...result.rows);
    detail[name] = result.detail;
    await client.ok('DELETE', `/api/containers/${id}`);
  }
  report('workspace', figures, rows, detail, { mergeInto: 'workspace' });
} finally {
  await stack.stop();
}
