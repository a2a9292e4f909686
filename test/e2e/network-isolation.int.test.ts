import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '@berth/service-kit/testing';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { DNS_PROBE, fakeOutside, hostListener, TCP_PROBE, type FakeOutside, type HostListener, type ProbeResult } from '../support/net-probe.js';
import { apiClient } from '../support/setup-client.js';

/** What a workspace's connection to anything but egress's proxy port gets: refused by the host firewall. */
const BLOCKED = 'EHOSTUNREACH';

// Issue 14 §3, against the stack scripts/up runs (local mode: egress on the host at the workspaces'
// bridge gateway): a workspace reaches egress's proxy port and nothing else, and what Docker's DNS
// tells it names no other workspace. Its own network, so other stacks on this engine are not touched.
const NETWORK = `berth-nwt-${randomBytes(3).toString('hex')}`;
const OWNER = 'default'; // the API token's owner
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();

let stack: LocalStack;
let client: ReturnType<typeof apiClient>;
let gateway = '';
let onAny: HostListener;
let onGateway: HostListener;
let outside: FakeOutside;
const ws: { id: string; ref: string; ip: string }[] = [];

const refOf = (id: string) => docker('ps', '-q', '--filter', `label=berth.id=${id}`);
const ipOf = (ref: string) => docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, ref);
const nameOf = (ref: string) => docker('inspect', '-f', '{{.Name}}', ref).replace(/^\//, '');

async function tcpProbe(id: string, targets: [string, number][]): Promise<Record<string, ProbeResult>> {
  const r = await client.exec(id, ['node', '-e', TCP_PROBE, JSON.stringify(targets)]);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, ProbeResult>;
}

beforeAll(async () => {
  stack = await startLocalStack(
    {
      WORKSPACE_NETWORK: NETWORK,
      POOLS: JSON.stringify([{ name: 'default', targetSize: 2, maxCreating: 2, memoryMb: 256, pids: 128, containerPorts: [7000] }]),
      MAX_CONTAINERS: '6',
    },
    'warn',
    { egress: { githubUrl: 'http://127.0.0.1:9' } },
  );
  client = apiClient(stack);
  gateway = docker('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', NETWORK);
  onAny = await hostListener('0.0.0.0', 'any');
  onGateway = await hostListener(gateway, 'gateway');
  outside = await fakeOutside(process.execPath);
  for (let i = 0; i < 2; i++) {
    const { id } = await client.claim();
    const ref = refOf(id);
    ws.push({ id, ref, ip: ipOf(ref) });
  }
  // The other workspace's own server on every address, started by the test (not through berth).
  docker('exec', '-d', ws[1]!.ref, 'node', '-e', "require('net').createServer((s)=>s.end('hello workspace\\n')).listen(7000,'0.0.0.0')");
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await onAny?.close();
  await onGateway?.close();
  await outside?.close();
  try {
    docker('network', 'rm', NETWORK);
  } catch {
    /* still has endpoints: left for the next run to reuse */
  }
});

describe('a workspace reaches egress and nothing else', () => {
  test("egress's proxy port answers; host listeners on 0.0.0.0 and on the gateway, another workspace and an outside address do not", async () => {
    const [a, b] = [ws[0]!, ws[1]!];
    // The listeners are real: the other workspace reaches its own server, the host its own.
    await waitFor(
      "the other workspace's server",
      async () => (await tcpProbe(b.id, [['127.0.0.1', 7000]]))['127.0.0.1:7000'] === 'open hello workspace',
      10_000,
      200,
    );
    const proxyPort = Number(new URL(stack.egressProxyUrl!).port);
    const got = await tcpProbe(a.id, [
      [gateway, proxyPort],
      [gateway, onAny.port],
      [gateway, onGateway.port],
      [b.ip, 7000],
      [outside.ip, outside.port],
    ]);
    expect(got).toEqual({
      [`${gateway}:${proxyPort}`]: expect.stringMatching(/^open/) as string,
      [`${gateway}:${onAny.port}`]: BLOCKED, // a host listener on 0.0.0.0
      [`${gateway}:${onGateway.port}`]: BLOCKED, // a host listener on the bridge gateway
      [`${b.ip}:7000`]: BLOCKED, // another workspace
      [`${outside.ip}:${outside.port}`]: BLOCKED, // an address outside
    });
    expect([onAny.connections, onGateway.connections, await outside.connections()]).toEqual([0, 0, 0]);
  }, 60_000);

  test('a dev server is still reached through its published port on the host', async () => {
    const r = await client.api('GET', `/api/containers/${ws[1]!.id}`);
    const hostPort = Number((r.json().ports as Record<string, number>)['7000']);
    const greeting = await new Promise<string>((resolve, reject) => {
      const s = connect(hostPort, '127.0.0.1');
      let got = '';
      s.on('data', (d) => {
        got += String(d);
      });
      s.on('end', () => resolve(got.trim()));
      s.on('error', reject);
    });
    expect(greeting).toBe('hello workspace');
  }, 30_000);
});

describe("names and DNS answers inside a workspace reveal no workspace's id or owner", () => {
  test('PTR lookups of the other workspaces, forward lookups of their names, hostname and /etc/hosts', async () => {
    const [a, b] = [ws[0]!, ws[1]!];
    // Claimed workspaces carry their claim marker in the name (written just after the claim); the
    // pool refills with warm ones.
    await waitFor('claim markers', () => Promise.resolve(ws.every((w) => nameOf(w.ref).endsWith('-claimed'))), 10_000, 100);
    const warmRef = await waitFor(
      'a warm workspace',
      () =>
        Promise.resolve(
          docker('ps', '-q', '--filter', `label=berth.host=${stack.hostId}`)
            .split('\n')
            .filter(Boolean)
            .find((ref) => !nameOf(ref).endsWith('-claimed')),
        ),
      30_000,
      200,
    );
    const warm = { ref: warmRef, ip: ipOf(warmRef), name: nameOf(warmRef), id: docker('inspect', '-f', '{{index .Config.Labels "berth.id"}}', warmRef) };
    const claimedName = nameOf(b.ref);
    const hexOwner = Buffer.from(OWNER).toString('hex');
    const guesses = [`berth-${b.id}`, `berth-${b.id}-o${hexOwner}-claimed`, b.id, `berth-${warm.id}`, warm.id];
    const dns = await client.exec(a.id, [
      'node',
      '-e',
      DNS_PROBE,
      JSON.stringify({ reverse: [b.ip, warm.ip, a.ip], forward: [claimedName, warm.name, ...guesses] }),
    ]);
    expect(dns.exitCode, dns.stderr).toBe(0);
    const answers = JSON.parse(dns.stdout) as { reverse: Record<string, string[] | string>; forward: Record<string, string[] | string> };
    // Docker's DNS does answer, so the test looks at real answers: a warm workspace by name and address.
    expect(answers.forward[warm.name]).toEqual([warm.ip]);
    expect(answers.reverse[warm.ip]).toEqual([`${warm.name}.${NETWORK}`]);
    // A claimed one's name, if it resolves at all (a sealed owner makes it longer than a DNS label), is its address.
    if (Array.isArray(answers.forward[claimedName])) expect(answers.forward[claimedName]).toEqual([b.ip]);
    // Guessing names from an id finds no address.
    for (const guess of guesses) expect(Array.isArray(answers.forward[guess]), guess).toBe(false);
    const inside = await client.exec(a.id, ['sh', '-c', 'hostname; cat /etc/hostname /etc/hosts']);
    expect(inside.stdout.split('\n')[0]).toBe('workspace');
    // Everything a workspace learns (the answers, not the guessed names asked for) and the names themselves.
    const seen = JSON.stringify([Object.values(answers.reverse), Object.values(answers.forward), inside.stdout, claimedName, warm.name]).toLowerCase();
    for (const secret of [...ws.map((w) => w.id), warm.id, hexOwner, OWNER]) {
      expect(seen, secret).not.toContain(secret.toLowerCase());
      expect(seen, secret).not.toContain(secret.replace(/^ws_/, '').toLowerCase());
    }
  }, 60_000);
});
