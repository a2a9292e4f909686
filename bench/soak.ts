// pnpm soak — SOAK_DURATION_S (default 600) of steady claims, execs, log reads and terminals on the
// real local stack; service RSS and fds, containers and host ports after warm-up and at the end.
import { SOAK_WARM, startSoakStack } from '../test/soak/soak-stack.js';
import { runSoak } from '../test/soak/soak-run.js';
import { report } from './lib/report.js';

const durationS = Number(process.env.SOAK_DURATION_S ?? 600);
const stack = await startSoakStack();
try {
  const r = await runSoak(stack, {
    durationS,
    warmContainers: SOAK_WARM,
    onProgress: (ops, errors) => console.error(`soak: ${ops} ops, ${errors} errors`),
  });
  const max = (o: Record<string, number>) => Math.max(...Object.values(o));
  const figures = {
    soak_duration_s: r.durationS,
    soak_ops: r.ops,
    soak_errors: r.errors,
    rss_growth_mb_max: max(r.rssGrowthMb),
    fd_growth_max: max(r.fdGrowth),
    containers_leaked: r.containersLeaked,
    ports_leaked: r.portsLeaked,
  };
  const perService = (f: (name: string) => string) =>
    Object.keys(r.start.processes)
      .map((n) => `${n} ${f(n)}`)
      .join(', ');
  report(
    'soak',
    figures,
    [
      { measure: 'duration, 2 workers each looping claim → 3 execs → log read → terminal → delete', value: `${r.durationS} s`, target: '600 s' },
      {
        measure: 'operations (claim, exec, logs, terminal, delete)',
        value: `${r.ops} (${Object.entries(r.opsByKind)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`,
      },
      { measure: 'errors', value: String(r.errors), target: '0' },
      { measure: 'RSS after warm-up → end', value: perService((n) => `${r.start.processes[n]!.rssMb} → ${r.end.processes[n]!.rssMb} MB`) },
      { measure: 'RSS growth (max over services)', value: `${figures.rss_growth_mb_max} MB`, target: 'bounded' },
      { measure: 'open fds after warm-up → end', value: perService((n) => `${r.start.processes[n]!.fds} → ${r.end.processes[n]!.fds}`) },
      { measure: 'fd growth (max over services)', value: String(figures.fd_growth_max), target: '≈ 0' },
      {
        measure: 'containers / host ports after warm-up → end',
        value: `${r.start.containers} → ${r.end.containers} / ${r.start.hostPorts} → ${r.end.hostPorts}`,
      },
      { measure: 'containers leaked / host ports leaked', value: `${r.containersLeaked} / ${r.portsLeaked}`, target: '0 / 0' },
    ],
    { ...r, errorSamples: r.errorSamples },
  );
  if (r.errors > 0) console.error(`soak errors:\n${r.errorSamples.join('\n')}`);
} finally {
  await stack.stop();
}
