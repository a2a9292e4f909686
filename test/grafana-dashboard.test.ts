import { readFileSync } from 'node:fs';
import { createMetricsRegistry, type Registry } from '@berth/service-kit';
import { registerLogMetrics } from '@berth/log-streamer';
import { registerPoolMetrics, type WorkspaceStore } from '@berth/pool-manager';
import { describe, expect, it } from 'vitest';
import { build } from '../services/gateway/test/helpers.js';

// infra/grafana/berth.json may only use metrics the services really register: a renamed or
// removed metric turns a panel silently empty, so it fails here instead.
interface Panel {
  title: string;
  targets: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync(new URL('../infra/grafana/berth.json', import.meta.url), 'utf8')) as { panels: Panel[]; uid: string };

/** Metric names as Prometheus exposes them: histograms as _bucket/_sum/_count. */
function exposed(registry: Registry): Set<string> {
  const names = new Set<string>();
  for (const m of registry.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string };
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    else names.add(name);
  }
  return names;
}

async function serviceMetrics(): Promise<Set<string>> {
  const gateway = createMetricsRegistry('gateway');
  const { app } = await build({}, { metrics: gateway });
  await app.close();
  const poolManager = createMetricsRegistry('pool-manager');
  registerPoolMetrics(poolManager, {} as WorkspaceStore);
  const logStreamer = createMetricsRegistry('log-streamer');
  registerLogMetrics(logStreamer, () => 0);
  return new Set([gateway, poolManager, logStreamer].flatMap((r) => [...exposed(r)]));
}

/** Identifiers in a PromQL expression that name metrics (not functions, labels or keywords). */
function metricsIn(expr: string): string[] {
  const withoutLabels = expr
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...withoutLabels.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)].map((m) => m[1]!).filter((n) => /^(berth|process|nodejs)_/.test(n));
}

describe('infra/grafana/berth.json', () => {
  it('uses only metrics the gateway, pool-manager and log-streamer register', async () => {
    const known = await serviceMetrics();
    const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricsIn(t.expr).map((name) => ({ panel: p.title, name }))));
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((u) => !known.has(u.name))).toEqual([]);
  });

  it('covers pool size per pool, claims, claim latency and exec counts', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const name of ['berth_pool_containers', 'berth_claims_total', 'berth_claim_seconds_bucket', 'berth_exec_requests_total'])
      expect(exprs).toContain(name);
    // Node's default metrics under their standard names, as stock Node.js dashboards query them.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes']) expect(exprs).toMatch(new RegExp(`\\(${name}\\b`));
    expect(dashboard.uid).toBe('berth-overview');
  });

  it('the check itself catches an unknown metric', () => {
    expect(metricsIn('histogram_quantile(0.95, sum by (le) (rate(berth_nope_bucket{a="b"}[5m])))')).toEqual(['berth_nope_bucket']);
    expect(metricsIn('rate(process_nope_total[5m]) + nodejs_eventloop_lag_seconds')).toEqual(['process_nope_total', 'nodejs_eventloop_lag_seconds']);
  });
});
