// pnpm bench:workspace — what a workspace offers its callers (issue 16). This runs the pause part;
// the files and preview parts join it at merge.
import { report } from './lib/report.js';
import { startLocalStack } from '../test/support/local-stack.js';
import { JsonClient } from './lib/http-client.js';
import { measure as measurePause } from './workspace/pause.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);

const stack = await startLocalStack({
  POOLS: JSON.stringify([{ name: 'default', targetSize: 0, minSize: 0, maxCreating: 2, memoryMb: 256, pids: 256 }]),
}, 'warn');
try {
  const client = new JsonClient(stack.url, stack.token);
  const f = await measurePause({ client, runs: RUNS });
  report('workspace', f, [
    { measure: 'resume to first exec answered (p50)', value: `${f.resume_p50_ms} ms`, baseline: `cold create to first exec: ${f.cold_create_p50_ms} ms`, target: '≤ 300 ms and ≤ 1/3 of a cold create' },
    { measure: 'pause until its memory is back in the host budget (p50)', value: `${f.pause_release_s} s`, target: '≤ 1 s' },
  ], { runs: RUNS });
} finally {
  await stack.stop();
}
