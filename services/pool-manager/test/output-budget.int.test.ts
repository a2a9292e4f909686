import type { CreateContainerReply } from '@berth/contracts';
import { request, type NatsConnection } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecProcess } from '../src/driver/exec-process.js';
import { randomBytes } from 'node:crypto';
import { clientNats, docker, removeAllOf, startInfra, startInProcess, testHostEnv, type Infra, type RunningPoolManager } from './harness.js';
import { newRequestId, waitForWarm } from './helpers.js';

const OWNER = 'budget-owner';
const POOL = { name: 'default', targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 };
const RATE = 256 * 1024;
const BURST = 1024 * 1024;
/** What may sit read but not yet delivered: the socket's and the stream's buffers, one read in debt. */
const SLACK = 512 * 1024;
/** Its own network, so other test runs on the engine never share it. */
const NETWORK = `berth-budget-${randomBytes(3).toString('hex')}`;
const PATHS: [string, Record<string, string>][] = [
  ['agent', {}],
  ['docker exec', { AGENTS_ENABLED: 'false' }],
];

/** Reads `proc` for `ms`, then kills it: the bytes pool-manager read meanwhile. */
async function drain(proc: ExecProcess, ms: number): Promise<number> {
  let bytes = 0;
  const stop = setTimeout(() => {
    void proc.kill().catch(() => undefined);
  }, ms);
  try {
    for await (const chunk of proc.output) bytes += chunk.data.length;
  } catch {
    // killed mid-read
  }
  clearTimeout(stop);
  return bytes;
}

describe.each(PATHS)('a workspace flooding its output, through %s', (_path, pathEnv) => {
  let infra: Infra;
  let pm: RunningPoolManager;
  let nc: NatsConnection & { close(): Promise<void> };
  let hostId: string;
  let ws: CreateContainerReply;

  beforeAll(async () => {
    infra = await startInfra();
    pm = await startInProcess(
      infra,
      testHostEnv({
        POOLS: JSON.stringify([POOL]),
        OUTPUT_RATE_BYTES_PER_S: String(RATE),
        OUTPUT_BURST_BYTES: String(BURST),
        WORKSPACE_NETWORK: NETWORK,
        ...pathEnv,
      }),
    );
    hostId = pm.config.BERTH_HOST_ID;
    nc = await clientNats(infra, hostId);
    await waitForWarm(nc, 1);
    ws = await request(nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER });
  });

  afterAll(async () => {
    await nc?.close();
    await pm?.stop();
    if (hostId) await removeAllOf(hostId);
    await docker
      .getNetwork(NETWORK)
      .remove()
      .catch(() => undefined);
    await infra?.dispose();
  });

  it('gets no more read than its budget (burst + rate·t), over all of its commands together', async () => {
    const spawn = () => pm.processes.spawn(ws.id, OWNER, ['cat', '/dev/zero'], { timeoutMs: 20_000 });
    const started = performance.now();
    const [a, b] = await Promise.all([spawn(), spawn()]);
    const read = (await Promise.all([drain(a, 3_000), drain(b, 3_000)])).reduce((x, y) => x + y, 0);
    const seconds = (performance.now() - started) / 1000;
    expect(read).toBeLessThanOrEqual(BURST + RATE * seconds + 2 * SLACK);
    // Throttled, not starved: it still gets most of its budget.
    expect(read).toBeGreaterThanOrEqual(BURST + RATE * 2);
  });

  it('still answers a plain exec whole (the burst covers the 1 MiB cap)', async () => {
    const r = await request(
      nc,
      'containerExec',
      { id: ws.id, owner: OWNER, command: 'head -c 100000 /dev/zero | tr "\\0" a', timeoutMs: 20_000 },
      { timeoutMs: 30_000 },
    );
    expect(r).toMatchObject({ exitCode: 0, truncated: false });
    expect(r.stdout.length).toBe(100_000);
  });
});
