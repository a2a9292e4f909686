// pnpm bench:scale — many Docker hosts behind one gateway (issue 17): warm claims at concurrency 96
// over 3 hosts and over 1 host, 300 claims spread by the placement policy, and losing a host.
import { hostOfWorkspace, type HostList } from '@berth/contracts';
import { MULTI_HOST_IMAGE, startMultiHost, type MultiHostStack } from '../test/support/multi-host.js';
import { JsonClient } from './lib/http-client.js';
import { measureEventsLostOnNatsNodeKill } from './lib/nats-node-kill.js';
import { report } from './lib/report.js';
import { round, summary } from './lib/stats.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 3);
const CONCURRENCY = 96;
const WAVES = Number(process.env.BENCH_WAVES ?? 3);
const SPREAD_CLAIMS = Number(process.env.BENCH_SPREAD_CLAIMS ?? 300);
const AFTER_FAILOVER = Number(process.env.BENCH_AFTER_FAILOVER ?? 30);
const IMAGE = process.env.BENCH_IMAGE ?? MULTI_HOST_IMAGE;

const pools = (target: number) => JSON.stringify([{ name: 'default', image: IMAGE, targetSize: target, minSize: 1, maxCreating: 8, memoryMb: 32, pids: 32 }]);

async function start(hosts: number, perHost: number, max: number): Promise<{ stack: MultiHostStack; client: JsonClient }> {
  const stack = await startMultiHost({
    hosts,
    images: IMAGE === MULTI_HOST_IMAGE ? [] : [IMAGE],
    poolEnv: { POOLS: pools(perHost), MAX_CONTAINERS: String(max) },
  });
  return { stack, client: new JsonClient(stack.url, stack.token) };
}

/** Runs `fn` on a fresh multi-host stack, printing its services' output if it fails, and stops it. */
async function onStack<T>(hosts: number, perHost: number, max: number, fn: (s: { stack: MultiHostStack; client: JsonClient }) => Promise<T>): Promise<T> {
  const three = await start(hosts, perHost, max);
  try {
    return await fn(three);
  } catch (err) {
    console.error(three.stack.outputTail());
    throw err;
  } finally {
    three.client.close();
    await three.stack.stop();
  }
}

async function hostList(client: JsonClient): Promise<HostList> {
  return (await client.ok('GET', '/api/hosts')) as unknown as HostList;
}

/** Until every live host holds `n` warm containers of the pool. */
async function waitWarm(client: JsonClient, n: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const { hosts } = await hostList(client);
    if (hosts.filter((h) => h.state !== 'lost').every((h) => (h.pools[0]?.warm ?? 0) >= n)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`hosts did not reach ${n} warm containers`);
}

async function claim(client: JsonClient): Promise<{ ms: number; status: number; id: string | undefined; warm: boolean }> {
  const t0 = performance.now();
  const res = await client.call('POST', '/api/containers', {});
  return { ms: performance.now() - t0, status: res.status, id: res.json.id as string | undefined, warm: res.json.warm === true };
}

async function release(client: JsonClient, ids: (string | undefined)[]): Promise<void> {
  await Promise.all(ids.filter((id) => id !== undefined).map((id) => client.call('DELETE', `/api/containers/${id}`)));
}

/** WAVES waves of 96 concurrent warm claims (after one untimed wave); latencies of warm ones. */
async function c96(client: JsonClient, warmPerHost: number): Promise<{ ms: number[]; cold: number }> {
  const ms: number[] = [];
  let cold = 0;
  for (let w = 0; w <= WAVES; w += 1) {
    await waitWarm(client, warmPerHost);
    const wave = await Promise.all(Array.from({ length: CONCURRENCY }, () => claim(client)));
    if (w > 0)
      for (const c of wave)
        if (c.warm) ms.push(c.ms);
        else cold += 1;
    await release(
      client,
      wave.map((c) => c.id),
    );
  }
  return { ms, cold };
}

// --- 3 hosts ---
const perHost = Math.ceil(CONCURRENCY / HOSTS) + 8;
const figures3 = await onStack(HOSTS, perHost, perHost + 60, async (three) => {
  const c = await c96(three.client, perHost);
  // 300 claims, 100 at a time (more than the warm pools hold: the rest are cold creates), then released.
  const spread: Record<string, number> = {};
  const held: (string | undefined)[] = [];
  for (let done = 0; done < SPREAD_CLAIMS; done += 100) {
    const wave = await Promise.all(Array.from({ length: Math.min(100, SPREAD_CLAIMS - done) }, () => claim(three.client)));
    for (const w of wave) if (w.id) spread[hostOfWorkspace(w.id)] = (spread[hostOfWorkspace(w.id)] ?? 0) + 1;
    held.push(...wave.map((w) => w.id));
    await release(three.client, held.splice(0));
  }
  // Losing a host: kill the last one's engine and services, time until the gateway says lost, then creates.
  await waitWarm(three.client, 4);
  const victim = three.stack.hosts.at(-1)!;
  const killedAt = performance.now();
  await victim.kill();
  for (;;) {
    const { hosts } = await hostList(three.client);
    if (hosts.find((h) => h.id === victim.id)?.state === 'lost') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const detectS = round((performance.now() - killedAt) / 1000, 2);
  const after = await Promise.all(Array.from({ length: AFTER_FAILOVER }, () => claim(three.client)));
  const failedAfter = after.filter((a) => a.status !== 201 || (a.id !== undefined && hostOfWorkspace(a.id) === victim.id)).length;
  return { claims: summary(c.ms), cold: c.cold, spread, detectS, failedAfter };
});

// --- 1 host, same load ---
const one = await onStack(1, CONCURRENCY + 8, CONCURRENCY + 60, (three) => c96(three.client, CONCURRENCY + 8));
const s1 = summary(one.ms);
// The NATS figures on their own three-node cluster (the multi-host harness runs one nats-server).
const nats = await measureEventsLostOnNatsNodeKill({ events: Number(process.env.BENCH_EVENTS ?? 2000) });

const figures: Record<string, number> = {
  hosts: HOSTS,
  claim_p99_ms_c96_hosts3: figures3.claims.p99,
  claim_p99_ms_c96_hosts1: s1.p99,
  host_failover_detect_s: figures3.detectS,
  claims_failed_after_failover: figures3.failedAfter,
  events_lost_on_nats_node_kill: nats.events_lost_on_nats_node_kill,
  events_duplicated_on_nats_node_kill: nats.events_duplicated_on_nats_node_kill,
};
report(
  'scale',
  figures,
  [
    {
      measure: `warm claims, concurrency 96 over ${HOSTS} hosts (p50 / p99)`,
      value: `${figures3.claims.p50} / ${figures3.claims.p99} ms`,
      baseline: `1 host: ${s1.p50} / ${s1.p99} ms`,
      target: 'p99 ≤ 60 ms',
    },
    { measure: 'host failover detected', value: `${figures3.detectS} s`, baseline: '', target: '≤ 10 s' },
    { measure: `creates failed after detection (of ${AFTER_FAILOVER})`, value: String(figures3.failedAfter), baseline: '', target: '0' },
    {
      measure: `events lost when the EVENTS leader (of 3 NATS nodes) is SIGKILLed mid-load (${nats.events_published} events)`,
      value: String(nats.events_lost_on_nats_node_kill),
      baseline: `stored twice: ${nats.events_duplicated_on_nats_node_kill}`,
      target: '0',
    },
  ],
  { nats, hosts3: figures3, hosts1: { claims: s1, cold: one.cold }, spreadClaims: SPREAD_CLAIMS, image: IMAGE },
);
