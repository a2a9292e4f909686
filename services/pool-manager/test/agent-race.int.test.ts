import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecResult } from '@berth/contracts';
import { request, type NatsConnection } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientNats, removeAllOf, startInfra, startInProcess, testHostEnv, waitFor, type Infra, type RunningPoolManager } from './harness.js';
import { inspectByBerthId, newRequestId, waitForWarm } from './helpers.js';

// Issue 14 §1: workspace A flips its agent socket for a link to workspace B's as fast as it can
// while hundreds of commands run in A. Not one of them may run in B.
const OWNER = 'race-owner';
const COMMANDS = Number(process.env.AGENT_RACE_COMMANDS ?? 300);
const CONCURRENCY = 4;
const POOLS = [{ name: 'default', targetSize: 2, minSize: 1, maxCreating: 2, memoryMb: 128, pids: 128 }];

/**
 * Runs inside A (node is in the workspace image), detached: keeps a hard link to A's real socket and
 * swaps `/run/berth/agent.sock` between it and a symlink to B's socket (host path from argv), as
 * fast as it can; also plants links at other names in /run/berth. Counts what succeeded and each
 * error code in /tmp/swapper.json.
 */
const SWAPPER = `
const fs = require('node:fs');
const target = process.argv[1];
const dir = '/run/berth';
const stats = { swaps: 0, planted: 0, errors: {} };
const fail = (e) => { stats.errors[e.code] = (stats.errors[e.code] || 0) + 1; };
try { fs.linkSync(dir + '/agent.sock', dir + '/real.sock'); } catch (e) { fail(e); }
for (let i = 0; ; i++) {
  try { fs.symlinkSync(target, dir + '/evil'); fs.renameSync(dir + '/evil', dir + '/agent.sock'); stats.swaps++; } catch (e) { fail(e); }
  try { fs.linkSync(dir + '/real.sock', dir + '/back'); fs.renameSync(dir + '/back', dir + '/agent.sock'); } catch (e) { fail(e); }
  try { fs.symlinkSync(target, dir + '/llm-key.evil'); stats.planted++; fs.unlinkSync(dir + '/llm-key.evil'); } catch (e) { fail(e); }
  if (i % 500 === 0) fs.writeFileSync('/tmp/swapper.json', JSON.stringify(stats));
}`;

describe('a workspace racing to redirect its agent channel', () => {
  let infra: Infra;
  let pm: RunningPoolManager;
  let nc: NatsConnection & { close(): Promise<void> };
  let hostId: string;
  let agentRoot: string;

  beforeAll(async () => {
    agentRoot = mkdtempSync(join(tmpdir(), 'berth-agent-race-'));
    infra = await startInfra();
    pm = await startInProcess(infra, testHostEnv({ POOLS: JSON.stringify(POOLS), AGENT_SOCKET_DIR: agentRoot }));
    hostId = pm.config.BERTH_HOST_ID;
    nc = await clientNats(infra, hostId);
    await waitForWarm(nc, 2, 60_000);
  });

  afterAll(async () => {
    await nc?.close();
    await pm?.stop();
    if (hostId) await removeAllOf(hostId);
    await infra?.dispose();
    rmSync(agentRoot, { recursive: true, force: true });
  });

  const claim = async () => (await request(nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER })).id;
  const exec = (id: string, command: string | string[], timeoutMs = 10_000): Promise<ExecResult> =>
    request(nc, 'containerExec', { id, owner: OWNER, command, timeoutMs }, { timeoutMs: timeoutMs + 10_000 });
  /** Around berth, straight through Docker: what a workspace holds, whatever berth says. */
  const inside = async (id: string, script: string) =>
    execFileSync('docker', ['exec', (await inspectByBerthId(hostId, id)).Id, 'sh', '-c', script], { encoding: 'utf8' });

  it(`${COMMANDS} commands in A while A flips its socket to B's: every one runs in A, none in B`, async () => {
    const a = await claim();
    const b = await claim();
    // Each workspace knows who it is; every command run anywhere appends to that workspace's log.
    await inside(a, 'echo A > /tmp/ident');
    await inside(b, 'echo B > /tmp/ident');
    // A learns its own host directory from its mount table and aims at B's next to it.
    const mountinfo = (await exec(a, ['cat', '/proc/self/mountinfo'])).stdout;
    const aHostDir = mountinfo
      .split('\n')
      .find((l) => l.split(' ')[4] === '/run/berth')
      ?.split(' ')[3];
    expect(aHostDir, 'A sees its agent directory in mountinfo').toBe(join(agentRoot, hostId, a));
    const bSocket = join(aHostDir!, '..', b, 'agent.sock');

    const launched = await exec(a, ['sh', '-c', 'node -e "$0" "$1" >/tmp/swapper.log 2>&1 </dev/null & echo $!', SWAPPER, bSocket]);
    expect(launched.exitCode).toBe(0);
    await waitFor('the swapper to report', async () => (await inside(a, 'cat /tmp/swapper.json 2>/dev/null || true')).includes('swaps'), 10_000);

    const results: { stdout: string; exitCode: number | null }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < COMMANDS) {
          next += 1;
          const r = await exec(a, 'cat /tmp/ident; echo ran >> /tmp/ran');
          results.push({ stdout: r.stdout, exitCode: r.exitCode });
        }
      }),
    );

    const swapper = JSON.parse(await inside(a, 'cat /tmp/swapper.json')) as { swaps: number; planted: number; errors: Record<string, number> };
    console.log(`[agent-race] swapper: ${JSON.stringify(swapper)}`);
    const ranInB = Number((await inside(b, 'wc -l < /tmp/ran 2>/dev/null || echo 0')).trim());
    const ranInA = Number((await inside(a, 'wc -l < /tmp/ran')).trim());
    const wrong = results.filter((r) => r.stdout !== 'A\n' || r.exitCode !== 0);
    console.log(`[agent-race] ${results.length} commands: ${ranInA} ran in A, ${ranInB} in B, ${wrong.length} answered otherwise`);

    expect(ranInB, 'commands that ran in B').toBe(0);
    expect(wrong, 'commands that did not answer from A').toEqual([]);
    expect(ranInA).toBe(COMMANDS);
    // The directory is pool-manager's and read-only inside: nothing could be swapped or planted.
    expect(swapper.swaps + swapper.planted, 'links the workspace managed to make').toBe(0);
    expect(swapper.errors.EROFS ?? 0).toBeGreaterThan(1000);
  }, 300_000);
});
