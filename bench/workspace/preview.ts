// The preview part of `pnpm bench:workspace`: one GET to a dev server in a workspace through the
// gateway (path form, API key) beside the same GET to its published host port directly, interleaved
// in one run, both over keep-alive connections. preview_overhead_p50_ms is the difference of p50s.
import { startDevServerCommand } from '../../test/support/dev-server.js';
import { JsonClient } from '../lib/http-client.js';
import { round, summary } from '../lib/stats.js';
import type { BenchRow } from '../lib/report.js';

/** The part of bench/workspace.ts's context this part uses (it claims its own workspace, with a published port). */
export interface PreviewBenchContext {
  stack: { url: string; token: string };
}

const REQUESTS = Number(process.env.BENCH_PREVIEW_REQUESTS ?? 300);

export async function measure(ctx: PreviewBenchContext): Promise<{ figures: Record<string, number>; rows: BenchRow[]; detail: unknown }> {
  const client = new JsonClient(ctx.stack.url, ctx.stack.token);
  const c = await client.ok('POST', '/api/containers', { ports: [3000] });
  const id = String(c.id);
  const hostPort = (c.ports as Record<string, number>)['3000']!;
  const direct = new JsonClient(`http://127.0.0.1:${hostPort}`, 'unused');
  try {
    await client.ok('POST', `/api/containers/${id}/exec`, { command: startDevServerCommand(3000) });
    const viaGateway = `/api/containers/${id}/preview/3000/echo`;
    for (let i = 0; (await client.discard('GET', viaGateway)) !== 200; i++) {
      if (i > 100) throw new Error('the dev server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const gw: number[] = [];
    const host: number[] = [];
    const time = async (into: number[], fn: () => Promise<number>) => {
      const t0 = performance.now();
      const status = await fn();
      into.push(performance.now() - t0);
      if (status !== 200) throw new Error(`preview answered ${status}`);
    };
    for (let i = 0; i < 20; i++) {
      await direct.discard('GET', '/echo');
      await client.discard('GET', viaGateway);
    }
    for (let i = 0; i < REQUESTS; i++) {
      await time(gw, () => client.discard('GET', viaGateway));
      await time(host, () => direct.discard('GET', '/echo'));
    }
    const s = { gateway: summary(gw), direct: summary(host) };
    const overhead = round(s.gateway.p50 - s.direct.p50);
    return {
      figures: { preview_overhead_p50_ms: overhead, preview_gateway_p50_ms: s.gateway.p50, preview_direct_p50_ms: s.direct.p50 },
      rows: [
        {
          measure: 'preview GET through the gateway vs the host port (p50 overhead)',
          value: `${overhead} ms (gateway ${s.gateway.p50} / p99 ${s.gateway.p99} ms)`,
          baseline: `host port directly ${s.direct.p50} / p99 ${s.direct.p99} ms`,
          target: '≤ 2 ms',
        },
      ],
      detail: s,
    };
  } finally {
    await client.call('DELETE', `/api/containers/${id}`).catch(() => undefined);
    client.close();
    direct.close();
  }
}
