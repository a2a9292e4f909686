import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { DockerDriver } from '../src/driver/docker-driver.js';

const tag = randomBytes(3).toString('hex');
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const options = (net: string) => JSON.parse(docker('network', 'inspect', '-f', '{{json .Options}}', net)) as Record<string, string>;
const driver = new DockerDriver('/var/run/docker.sock');
const networks: string[] = [];
const net = (n: string) => {
  const name = `berth-pmnet-${tag}-${n}`;
  networks.push(name);
  return name;
};

afterAll(() => {
  try {
    docker('rm', '-f', `berth-pmnet-${tag}-holder`);
  } catch {
    /* not there */
  }
  for (const n of networks) {
    try {
      docker('network', 'rm', n);
    } catch {
      /* not there */
    }
  }
});

describe("pool-manager's workspaces network", () => {
  test('is made without NAT and without inter-container traffic', async () => {
    const n = net('new');
    await driver.ensureNetwork(n);
    expect(options(n)).toEqual({ 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.enable_ip_masquerade': 'false' });
    await driver.ensureNetwork(n); // found as it should be: kept
    expect(options(n)['com.docker.network.bridge.enable_icc']).toBe('false');
  });

  test('an existing one with inter-container traffic on is recreated when empty, refused while in use', async () => {
    const empty = net('empty');
    docker('network', 'create', '-o', 'com.docker.network.bridge.enable_ip_masquerade=false', empty);
    await driver.ensureNetwork(empty);
    expect(options(empty)['com.docker.network.bridge.enable_icc']).toBe('false');

    const used = net('used');
    docker('network', 'create', '-o', 'com.docker.network.bridge.enable_ip_masquerade=false', used);
    docker('run', '-d', '--name', `berth-pmnet-${tag}-holder`, '--network', used, '--entrypoint', 'sleep', 'berth/workspace:latest', '60');
    await expect(driver.ensureNetwork(used)).rejects.toThrow(`network ${used} has com.docker.network.bridge.enable_icc=true (default) and containers attached`);
    expect(options(used)['com.docker.network.bridge.enable_icc']).toBeUndefined();
  });
});
