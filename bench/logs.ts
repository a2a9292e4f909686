// pnpm bench:logs — container output to an SSE client through berth (log-streamer → JetStream →
// gateway), beside `docker logs -f` reading the same containers in the same run.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startLocalStack } from '../test/support/local-stack.js';
import { openSse } from '../test/support/sse-client.js';
import { JsonClient } from './lib/http-client.js';
import { mergeFigures } from './lib/merge-figures.js';
import { report } from './lib/report.js';
import { round, summary } from './lib/stats.js';

const LINES = Number(process.env.BENCH_LOG_LINES ?? 100_000);
const SAMPLES = Number(process.env.BENCH_LOG_SAMPLES ?? 200);
const INTERVAL_S = process.env.BENCH_LOG_INTERVAL_S ?? '0.02';

const nowMs = () => performance.timeOrigin + performance.now();

async function api(method: string, path: string, body?: unknown) {
  const res = await client.call(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

async function claim(): Promise<{ id: string; ref: string }> {
  const { id } = (await api('POST', '/api/containers', {})) as { id: string };
  const { execFileSync } = await import('node:child_process');
  const ref = execFileSync('docker', ['ps', '-q', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();
  return { id, ref };
}

/** Runs `script` in the workspace with its output going to the container's own stdout (what logs capture). */
function writeOutput(id: string, script: string): Promise<unknown> {
  return api('POST', `/api/containers/${id}/exec`, { command: `(${script}) > /proc/1/fd/1 < /dev/null`, timeout: 120_000 });
}

/** Calls `onLine` with each line and its arrival time, from berth's SSE route or from `docker logs -f`. */
function berthReader(id: string, onLine: (line: string, at: number) => void): () => void {
  const conn = openSse(`${stack.url}/api/containers/${id}/logs?tail=0`, { authorization: `Bearer ${stack.token}` }, (m) => {
    onLine((JSON.parse(m.data) as { line: string }).line, nowMs());
  });
  return () => conn.destroy();
}

function dockerReader(ref: string, onLine: (line: string, at: number) => void): () => void {
  const child = spawn('docker', ['logs', '-f', '--tail', '0', ref], { stdio: ['ignore', 'pipe', 'ignore'] });
  createInterface({ input: child.stdout }).on('line', (l) => onLine(l, nowMs()));
  return () => child.kill();
}

type Reader = (target: string, onLine: (line: string, at: number) => void) => () => void;

/** Lines per second from the write request to the last line at the reader; checks none is lost or reordered. */
async function throughput(reader: Reader, target: string, id: string): Promise<number> {
  let count = 0;
  let inOrder = true;
  let finished!: (at: number) => void;
  const last = new Promise<number>((r) => {
    finished = r;
  });
  const stop = reader(target, (line, at) => {
    count += 1;
    if (line !== String(count)) inOrder = false;
    if (count === LINES) finished(at);
  });
  await new Promise((r) => setTimeout(r, 1000)); // reader connected
  const t0 = nowMs();
  await writeOutput(id, `seq 1 ${LINES}`);
  const end = await Promise.race([last, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`${count}/${LINES} lines arrived`)), 120_000))]);
  stop();
  if (!inOrder) throw new Error('lines arrived out of order or with gaps');
  return LINES / ((end - t0) / 1000);
}

/** Write-to-read latency of lines stamped by the writer, for both readers on the same container. */
async function latency(id: string, ref: string): Promise<{ berth: number[]; docker: number[] }> {
  const berth: number[] = [];
  const docker: number[] = [];
  const record = (into: number[]) => (line: string, at: number) => {
    if (/^\d{19}$/.test(line)) into.push(at - Number(line) / 1e6);
  };
  const stops = [berthReader(id, record(berth)), dockerReader(ref, record(docker))];
  await new Promise((r) => setTimeout(r, 1000));
  await writeOutput(id, `i=0; while [ $i -lt ${SAMPLES} ]; do date +%s%N; sleep ${INTERVAL_S}; i=$((i+1)); done`);
  await new Promise((r) => setTimeout(r, 1000));
  for (const s of stops) s();
  if (berth.length !== SAMPLES || docker.length !== SAMPLES) throw new Error(`latency samples: berth ${berth.length}, docker ${docker.length} of ${SAMPLES}`);
  return { berth, docker };
}

const stack = await startLocalStack({
  POOLS: JSON.stringify([{ name: 'default', targetSize: 3, maxCreating: 3, memoryMb: 256, pids: 64 }]),
  MAX_CONTAINERS: '8',
});
const client = new JsonClient(stack.url, stack.token);
try {
  const warmup = await claim();
  await throughput((id, on) => berthReader(id, on), warmup.id, warmup.id); // JIT warm-up, untimed

  const a = await claim();
  const dockerRate = await throughput((ref, on) => dockerReader(ref, on), a.ref, a.id);
  const b = await claim();
  const berthRate = await throughput((id, on) => berthReader(id, on), b.id, b.id);
  const c = await claim();
  const lat = await latency(c.id, c.ref);

  const sb = summary(lat.berth);
  const sd = summary(lat.docker);
  const figures = {
    log_latency_p50_ms: sb.p50,
    log_throughput_lines_per_s: Math.round(berthRate),
  };
  const baselines = {
    log_latency_p50_ms_docker_logs: sd.p50,
    log_throughput_lines_per_s_docker_logs: Math.round(dockerRate),
  };
  report(
    'logs',
    { ...figures, ...baselines, log_latency_p99_ms: sb.p99 },
    [
      {
        measure: 'log line latency, container write → SSE client (p50 / p99)',
        value: `${sb.p50} / ${sb.p99} ms`,
        baseline: `docker logs -f: ${sd.p50} / ${sd.p99} ms`,
        target: 'p50 < 50 ms',
      },
      {
        measure: `log throughput, ${LINES} lines (seq) → SSE client, none lost`,
        value: `${figures.log_throughput_lines_per_s} lines/s`,
        baseline: `docker logs -f: ${baselines.log_throughput_lines_per_s_docker_logs} lines/s`,
        target: '≥ 50k lines/s',
      },
    ],
    { latencyBerth: sb, latencyDockerLogs: sd, throughputRatio: round(berthRate / dockerRate, 2) },
  );
  mergeFigures('streams', { ...figures, ...baselines });
} catch (err) {
  console.error(stack.outputTail());
  throw err;
} finally {
  client.close();
  await stack.stop();
}
