import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { TerminalClient } from '../support/terminal-client.js';

// A terminal whose pool-manager dies must not hang: the gateway hears no keepalive for its lease
// and closes the WebSocket with 1013. While pool-manager lives, an idle terminal outlasts the lease.
const LEASE_MS = 6_000;
let stack: LocalStack;
let id: string;

beforeAll(async () => {
  stack = await startLocalStack(
    {
      POOLS: JSON.stringify([{ name: 'default', targetSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 }]),
    },
    'warn',
    { gatewayEnv: { STREAM_LEASE_MS: String(LEASE_MS) } },
  );
  const res = await fetch(`${stack.url}/api/containers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  id = ((await res.json()) as { id: string }).id;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('terminal liveness', () => {
  test('an idle terminal outlives the lease; when pool-manager dies the socket closes with 1013', async () => {
    const term = await TerminalClient.open(`${stack.url.replace('http', 'ws')}/api/containers/${id}/terminal`, { token: stack.token });
    term.type('echo alive-$((1+1))\n');
    await term.waitFor(/alive-2/);
    let closed: { code: number } | undefined;
    void term.closed.then((c) => {
      closed = c;
    });

    await new Promise((r) => setTimeout(r, LEASE_MS + 2_000));
    expect(closed).toBeUndefined();
    const from = term.output.length;
    term.type('echo still-$((2+2))\n');
    await term.waitFor(/still-4/, 10_000, from);

    await stack.poolManager.kill('SIGKILL');
    const started = Date.now();
    const result = await Promise.race([term.closed, new Promise<'hung'>((r) => setTimeout(() => r('hung'), LEASE_MS + 10_000))]);
    expect(result).toMatchObject({ code: 1013 });
    expect(Date.now() - started).toBeLessThan(LEASE_MS + 6_000);
    expect(term.frames).toContainEqual(expect.objectContaining({ type: 'error', code: 'SERVICE_UNAVAILABLE' }));
    // The agent lost pool-manager's connection and killed the shell: nothing is left running.
    const ref = execFileSync('docker', ['ps', '-q', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();
    const ps = () => execFileSync('docker', ['exec', ref, 'ps', '-eo', 'args'], { encoding: 'utf8' });
    const deadline = Date.now() + 5_000;
    while (/bash -l/.test(ps()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(ps()).not.toMatch(/bash -l/);
  }, 60_000);
});
