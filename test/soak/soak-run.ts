import { sleep } from '@berth/service-kit/testing';
import { Berth, type Container } from '../../packages/sdk/src/index.js';
import type { LocalStack } from '../support/local-stack.js';
import { sampleStack, type StackSample } from './probes.js';

export interface SoakResult {
  durationS: number;
  ops: number;
  errors: number;
  /** The first few error messages, for a failure message. */
  errorSamples: string[];
  opsByKind: Record<string, number>;
  start: StackSample;
  end: StackSample;
  rssGrowthMb: Record<string, number>;
  fdGrowth: Record<string, number>;
  containersLeaked: number;
  portsLeaked: number;
}

/** One workspace's life: claim, execs, a log read, a terminal session, delete. Each step is an op. */
async function cycle(berth: Berth, worker: number, n: number, op: (kind: string, run: () => Promise<void>) => Promise<void>): Promise<void> {
  let c: Container | undefined;
  await op('claim', async () => {
    c = await berth.containers.create({ name: `soak-${worker}-${n}` });
  });
  if (!c) return;
  const ws = c;
  for (let i = 0; i < 3; i++) {
    await op('exec', async () => {
      const r = await ws.exec(`echo soak-${n}-${i}`, { timeoutMs: 15_000 });
      if (r.exitCode !== 0 || r.stdout !== `soak-${n}-${i}\n`) throw new Error(`exec: exit ${r.exitCode} ${JSON.stringify(r.stdout)} ${r.stderr}`);
    });
  }
  await op('logs', async () => {
    for await (const line of ws.logs({ follow: false, tail: 20, timeoutMs: 15_000 })) void line;
  });
  await op('terminal', async () => {
    const term = await ws.terminal({ timeoutMs: 15_000 });
    term.write('echo "term""-ok"; exit\n');
    let text = '';
    for await (const chunk of term) text += Buffer.from(chunk).toString('utf8');
    const exit = await term.exited;
    if (!text.includes('term-ok') || exit.code !== 0) throw new Error(`terminal: exit ${exit.code} ${JSON.stringify(text.slice(-200))}`);
  });
  await op('delete', () => ws.delete());
}

/**
 * Polls until the stack is back at `want` containers (the warm pool refilled) publishing at least
 * `ports` host ports (a container being created has none yet), or `ms` passed.
 */
async function settle(stack: LocalStack, want: number, ports: number, ms: number): Promise<StackSample> {
  const deadline = Date.now() + ms;
  let s = sampleStack(stack);
  while ((s.containers !== want || s.hostPorts < ports) && Date.now() < deadline) {
    await sleep(500);
    s = sampleStack(stack);
  }
  return s;
}

/**
 * Steady claims, execs, log reads and terminals from `workers` loops for `durationS` against a
 * running stack whose pools hold `warmContainers` when idle; samples the stack's processes,
 * containers and host ports after a warm-up cycle and once everything settled at the end.
 */
export async function runSoak(
  stack: LocalStack,
  opts: { durationS: number; workers?: number; warmContainers: number; onProgress?: (ops: number, errors: number) => void },
): Promise<SoakResult> {
  const berth = new Berth({ url: stack.url, apiKey: stack.token, timeoutMs: 30_000 });
  const opsByKind: Record<string, number> = {};
  const errorSamples: string[] = [];
  let ops = 0;
  let errors = 0;
  const op = async (kind: string, run: () => Promise<void>) => {
    ops++;
    opsByKind[kind] = (opsByKind[kind] ?? 0) + 1;
    try {
      await run();
    } catch (err) {
      errors++;
      if (errorSamples.length < 10) errorSamples.push(`${kind}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  // Warm-up: every code path once (module loading, first connections), then the pool refilled.
  await cycle(berth, 0, 0, async (_k, run) => run());
  const start = await settle(stack, opts.warmContainers, opts.warmContainers, 60_000);
  const until = Date.now() + opts.durationS * 1000;
  const t0 = Date.now();
  const progress = setInterval(() => opts.onProgress?.(ops, errors), 30_000);
  try {
    await Promise.all(
      Array.from({ length: opts.workers ?? 2 }, async (_, w) => {
        for (let n = 1; Date.now() < until; n++) await cycle(berth, w + 1, n, op);
      }),
    );
  } finally {
    clearInterval(progress);
  }
  const durationS = Math.round((Date.now() - t0) / 1000);
  const end = await settle(stack, opts.warmContainers, start.hostPorts, 60_000);
  const growth = (f: (s: StackSample, name: string) => number) =>
    Object.fromEntries(Object.keys(start.processes).map((name) => [name, Math.round((f(end, name) - f(start, name)) * 10) / 10]));
  return {
    durationS,
    ops,
    errors,
    errorSamples,
    opsByKind,
    start,
    end,
    rssGrowthMb: growth((s, n) => s.processes[n]!.rssMb),
    fdGrowth: growth((s, n) => s.processes[n]!.fds),
    containersLeaked: Math.max(0, end.containers - start.containers),
    portsLeaked: Math.max(0, end.hostPorts - start.hostPorts),
  };
}
