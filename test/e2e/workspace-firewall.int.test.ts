import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fakeOutside, hostListener, TCP_PROBE, type FakeOutside, type HostListener, type ProbeResult } from '../support/net-probe.js';
import { ensureWorkspaceNetwork, installWorkspaceFirewall, removeWorkspaceFirewall } from '../support/workspace-net.js';

/** What a workspace's connection to anything but egress's proxy port gets: refused by the host firewall. */
const BLOCKED = 'EHOSTUNREACH';

// scripts/workspace-net on a network of this test's own, with containers standing in for workspaces
// (hardened as pool-manager makes them) and for egress as compose runs it: a container on the same
// inter-container-traffic-off bridge. The local-mode path (egress on the host) is network-isolation.int.test.ts.
const tag = randomBytes(3).toString('hex');
const NETWORK = `berth-fwt-${tag}`;
const IMAGE = 'berth/workspace:latest';
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const made: string[] = [];

/** A container on NETWORK running `node -e program`, as a workspace runs (non-root, no capabilities). */
function container(role: string, program: string): { name: string; ip: string } {
  const name = `berth-fwt-${tag}-${role}`;
  docker(
    'run',
    '-d',
    '--name',
    name,
    '--label',
    'berth.test=workspace-firewall',
    '--network',
    NETWORK,
    '--user',
    '1000:1000',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges:true',
    '--entrypoint',
    'node',
    IMAGE,
    '-e',
    program,
  );
  made.push(name);
  return { name, ip: docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, name) };
}
const greeter = (ports: number[]) =>
  ports.map((p) => `require('net').createServer((s)=>s.end('hello ${p}\\n')).listen(${p});`).join('') + 'setInterval(()=>{},1e9);';

/** Async: the host listeners live in this process and must answer while the probe runs. */
async function probe(from: string, targets: [string, number][]): Promise<Record<string, ProbeResult>> {
  const { stdout } = await promisify(execFile)('docker', ['exec', from, 'node', '-e', TCP_PROBE, JSON.stringify(targets)]);
  return JSON.parse(stdout) as Record<string, ProbeResult>;
}
const rulesTagged = (port: number) =>
  ['BERTH-WS-IN', 'BERTH-WS-FWD']
    .flatMap((chain) => {
      try {
        return execFileSync('iptables', ['-S', chain], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n');
      } catch {
        return [];
      }
    })
    .filter((l) => l.includes(`"berth-ws ${NETWORK} ${port}"`));

let gateway = '';
let egress: { name: string; ip: string };
let ws1: { name: string; ip: string };
let ws2: { name: string; ip: string };
let onGateway: HostListener;
let second: HostListener;
let outside: FakeOutside;

beforeAll(async () => {
  gateway = ensureWorkspaceNetwork(NETWORK);
  onGateway = await hostListener(gateway, 'gateway');
  second = await hostListener(gateway, 'second');
  outside = await fakeOutside(process.execPath);
  egress = container('egress', greeter([3128, 3129]));
  ws1 = container('ws1', 'setInterval(()=>{},1e9)');
  ws2 = container('ws2', greeter([7000]));
}, 60_000);

afterAll(async () => {
  for (const port of [3128, onGateway?.port, second?.port]) if (port) removeWorkspaceFirewall(NETWORK, port);
  if (made.length) docker('rm', '-f', ...made);
  try {
    docker('network', 'rm', NETWORK);
  } catch {
    /* gone already */
  }
  await onGateway?.close();
  await second?.close();
  await outside?.close();
});

describe('scripts/workspace-net', () => {
  test('makes the network without inter-container traffic or NAT', () => {
    expect(docker('network', 'inspect', '-f', '{{json .Options}}', NETWORK)).toBe(
      JSON.stringify({ 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.enable_ip_masquerade': 'false' }),
    );
  });

  test('egress as a container on the bridge: workspaces reach its proxy port and nothing else', async () => {
    installWorkspaceFirewall(NETWORK, 3128, egress.ip);
    expect(
      await probe(ws1.name, [
        [egress.ip, 3128],
        [egress.ip, 3129],
        [ws2.ip, 7000],
        [gateway, onGateway.port],
        [outside.ip, outside.port],
      ]),
    ).toEqual({
      [`${egress.ip}:3128`]: 'open hello 3128',
      [`${egress.ip}:3129`]: BLOCKED, // another port of egress
      [`${ws2.ip}:7000`]: BLOCKED, // another workspace
      [`${gateway}:${onGateway.port}`]: BLOCKED, // the host
      [`${outside.ip}:${outside.port}`]: BLOCKED, // outside
    });
    expect(await outside.connections()).toBe(0);
    removeWorkspaceFirewall(NETWORK, 3128);
    expect(rulesTagged(3128)).toEqual([]);
  }, 60_000);

  test('stacks sharing the network each get their own egress port; removing one keeps the other', async () => {
    installWorkspaceFirewall(NETWORK, onGateway.port);
    installWorkspaceFirewall(NETWORK, second.port);
    installWorkspaceFirewall(NETWORK, second.port); // idempotent: replaced, not doubled
    expect(rulesTagged(second.port)).toHaveLength(5); // 3 in BERTH-WS-IN, 2 in BERTH-WS-FWD
    const targets: [string, number][] = [
      [gateway, onGateway.port],
      [gateway, second.port],
      [ws2.ip, 7000],
    ];
    expect(await probe(ws1.name, targets)).toEqual({
      [`${gateway}:${onGateway.port}`]: 'open hello gateway',
      [`${gateway}:${second.port}`]: 'open hello second',
      [`${ws2.ip}:7000`]: BLOCKED,
    });
    removeWorkspaceFirewall(NETWORK, onGateway.port);
    expect(rulesTagged(onGateway.port)).toEqual([]);
    expect(await probe(ws1.name, targets)).toEqual({
      [`${gateway}:${onGateway.port}`]: BLOCKED,
      [`${gateway}:${second.port}`]: 'open hello second',
      [`${ws2.ip}:7000`]: BLOCKED,
    });
    removeWorkspaceFirewall(NETWORK, second.port);
    expect(rulesTagged(second.port)).toEqual([]);
  }, 60_000);

  test('an existing network with inter-container traffic on is recreated when empty and refused while in use', () => {
    const old = `berth-fwt-${tag}-old`;
    docker('network', 'create', '-o', 'com.docker.network.bridge.enable_ip_masquerade=false', old);
    try {
      const holder = `berth-fwt-${tag}-holder`;
      docker('run', '-d', '--name', holder, '--network', old, '--entrypoint', 'sleep', IMAGE, '60');
      try {
        expect(() => ensureWorkspaceNetwork(old)).toThrow(/enable_icc=true \(default\) and 1 containers attached/);
      } finally {
        docker('rm', '-f', holder);
      }
      ensureWorkspaceNetwork(old);
      expect(docker('network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.enable_icc"}}', old)).toBe('false');
    } finally {
      docker('network', 'rm', old);
    }
  });
});
