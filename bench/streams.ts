// pnpm bench:streams — exec and terminal through berth beside plain `docker exec`, in one run, and
// exec beside eight workspaces flooding their output (bench/lib/noisy-neighbour.ts).
// BENCH_PARTS=exec or =noisy runs one part. Writes its figures into bench/results/streams.json,
// keeping the other figures there.
import { execFileSync } from 'node:child_process';
import { startLocalStack } from '../test/support/local-stack.js';
import { TerminalClient } from '../test/support/terminal-client.js';
import { dockerApiExec } from './lib/docker-api.js';
import { JsonClient } from './lib/http-client.js';
import { noisyNeighbour, NOISY_WORKSPACES } from './lib/noisy-neighbour.js';
import { report, type BenchRow } from './lib/report.js';
import { round, summary } from './lib/stats.js';

const EXECS = Number(process.env.BENCH_EXECS ?? 100);
const CLAIMS = Number(process.env.BENCH_CLAIMS ?? 20);
const KEYSTROKES = Number(process.env.BENCH_KEYSTROKES ?? 100);
const POOL_SIZE = 8;
const PARTS = new Set((process.env.BENCH_PARTS ?? 'exec,noisy').split(','));

async function timed(n: number, fn: () => Promise<unknown> | unknown, warmup = 5): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

const stack = await startLocalStack({
  POOLS: JSON.stringify([{ name: 'default', targetSize: POOL_SIZE, minSize: 1, maxCreating: 4, memoryMb: 64, pids: 64 }]),
  MAX_CONTAINERS: String(POOL_SIZE + NOISY_WORKSPACES + 4),
  // Another network than the default, for a run beside another stack on the same engine.
  ...(process.env.WORKSPACE_NETWORK && { WORKSPACE_NETWORK: process.env.WORKSPACE_NETWORK }),
});
const client = new JsonClient(stack.url, stack.token);

async function execFigures() {
  const id = String((await client.ok('POST', '/api/containers', {})).id);
  const ref = execFileSync('docker', ['ps', '-q', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();
  // Exec in steady state: the claim's replacement is started before timing, not during it.
  await client.waitWarm(POOL_SIZE);

  const berthExec = await timed(EXECS, () => client.ok('POST', `/api/containers/${id}/exec`, { command: ['true'] }));
  const dockerCli = await timed(Math.min(EXECS, 30), () => execFileSync('docker', ['exec', ref, 'true'], { stdio: 'ignore' }), 2);
  const dockerApi = await timed(EXECS, () => dockerApiExec(ref, ['true']));

  const claimToResult: number[] = [];
  for (let i = 0; i < CLAIMS; i++) {
    await client.waitWarm(POOL_SIZE - 1);
    const t0 = performance.now();
    const c = await client.ok('POST', '/api/containers', {});
    await client.ok('POST', `/api/containers/${String(c.id)}/exec`, { command: ['true'] });
    claimToResult.push(performance.now() - t0);
    await client.ok('DELETE', `/api/containers/${String(c.id)}`);
  }

  const term = await TerminalClient.open(`${stack.url.replace('http', 'ws')}/api/containers/${id}/terminal`, { token: stack.token });
  await term.waitFor(/\$ $/);
  const echo = await timed(KEYSTROKES, async () => {
    const from = term.output.length;
    term.type('x');
    await term.waitFor(/x/, 5_000, from);
  });
  term.close();

  const s = {
    berthExec: summary(berthExec),
    dockerCli: summary(dockerCli),
    dockerApi: summary(dockerApi),
    claimToResult: summary(claimToResult),
    echo: summary(echo),
  };
  const figures = {
    exec_p50_ms: s.berthExec.p50,
    exec_p99_ms: s.berthExec.p99,
    docker_exec_p50_ms: s.dockerCli.p50,
    docker_exec_api_p50_ms: s.dockerApi.p50,
    claim_to_first_result_p50_ms: s.claimToResult.p50,
    terminal_echo_p50_ms: s.echo.p50,
    terminal_echo_p99_ms: s.echo.p99,
  };
  const rows: BenchRow[] = [
    {
      measure: 'exec `true` via HTTP (p50 / p99)',
      value: `${s.berthExec.p50} / ${s.berthExec.p99} ms`,
      baseline: `docker exec CLI ${s.dockerCli.p50} ms, Engine API ${s.dockerApi.p50} ms (p50)`,
    },
    {
      measure: 'claim + first exec result via HTTP (p50 / p99)',
      value: `${s.claimToResult.p50} / ${s.claimToResult.p99} ms`,
      baseline: `docker run --rm: see acquire`,
    },
    { measure: 'terminal keystroke echo round trip (p50 / p99)', value: `${s.echo.p50} / ${s.echo.p99} ms`, baseline: '' },
    { measure: 'exec overhead over the Engine API (p50)', value: `${round(s.berthExec.p50 - s.dockerApi.p50)} ms`, baseline: '' },
  ];
  return { figures, rows, detail: s };
}

try {
  await client.waitWarm(POOL_SIZE);
  const figures: Record<string, number> = {};
  const rows: BenchRow[] = [];
  const detail: Record<string, unknown> = {};
  if (PARTS.has('exec')) {
    const r = await execFigures();
    Object.assign(figures, r.figures);
    rows.push(...r.rows);
    detail.exec = r.detail;
  }
  if (PARTS.has('noisy')) {
    const r = await noisyNeighbour(client, EXECS, timed, POOL_SIZE);
    Object.assign(figures, r.figures);
    rows.push(r.row);
    detail.noisy = r.detail;
  }
  report('streams-exec', figures, rows, detail, { mergeInto: 'streams' });
} catch (err) {
  console.error(stack.outputTail());
  throw err;
} finally {
  client.close();
  await stack.stop();
}
