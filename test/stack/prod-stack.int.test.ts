import { natsPasswordVar } from '@berth/contracts';
import { callApi } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerStatus, inspect } from './docker.js';
import { presentServices, startDevStack, type TestStack } from './stack.js';

// The production stack for real: scripts/stack --prod up builds the service images (their build
// fetches packages from the npm registry) and starts infra/docker-compose.prod.yml. Tests use no
// outside network by default, and the build takes minutes, so this runs only with
// BERTH_PROD_STACK_TEST=1; prod-config.int.test.ts inspects the same file in every run.
const enabled = process.env.BERTH_PROD_STACK_TEST === '1';
let stack: TestStack;

beforeAll(async () => {
  if (enabled) stack = await startDevStack({ BERTH_STACK_TIMEOUT: '240' }, { prod: true });
}, 900_000);
afterAll(async () => {
  if (stack) await stack.down();
}, 180_000);

const api = (method: string, path: string, body?: unknown) => callApi(stack.url, stack.token, method, path, body);

describe.runIf(enabled)('prod compose stack', () => {
  it('claims, execs in, reads the logs of and deletes a container through the published port', async () => {
    const created = await api('POST', '/api/containers', {});
    expect(created.status).toBe(201);
    const id = (JSON.parse(created.text) as { id: string }).id;
    const exec = await api('POST', `/api/containers/${id}/exec`, { command: 'echo prod-line > /proc/1/fd/1; id -u', timeout: 10_000 });
    expect(JSON.parse(exec.text)).toMatchObject({ exitCode: 0, stdout: '1000\n' });
    let logs = '';
    for (let i = 0; i < 50 && !logs.includes('prod-line'); i++) {
      logs = (await api('GET', `/api/containers/${id}/logs?follow=false`)).text;
      if (!logs.includes('prod-line')) await new Promise((r) => setTimeout(r, 200));
    }
    expect(logs).toContain('prod-line');
    expect((await api('DELETE', `/api/containers/${id}`)).status).toBe(200);
  });

  it('runs every container from its image, hardened, with only the gateway port published', async () => {
    for (const s of ['nats-1', 'nats-2', 'nats-3', 'redis', ...presentServices()]) {
      const c = await inspect<{
        Config: { User: string; Image: string };
        HostConfig: {
          ReadonlyRootfs: boolean;
          CapDrop: string[];
          SecurityOpt: string[];
          Memory: number;
          PidsLimit: number;
          PortBindings: Record<string, unknown>;
        };
      }>(await stack.container(s));
      expect(c.Config.User, s).toBe('1001:1001');
      expect(c.HostConfig.ReadonlyRootfs, s).toBe(true);
      expect(c.HostConfig.CapDrop, s).toEqual(['ALL']);
      expect(c.HostConfig.SecurityOpt, s).toContain('no-new-privileges:true');
      expect(c.HostConfig.Memory * c.HostConfig.PidsLimit, s).toBeGreaterThan(0);
      expect(Object.keys(c.HostConfig.PortBindings ?? {}).length, s).toBe(s === 'gateway' ? 1 : 0);
      expect((await inspect<{ State: { Health?: { Status: string } } }>(await stack.container(s))).State.Health?.Status, s).toBe('healthy');
    }
  });

  it('joins the three NATS nodes with authenticated routes and refuses a route with a wrong password', async () => {
    const routes = await docker('exec', await stack.container('nats-1'), 'busybox', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8222/routez');
    expect((JSON.parse(routes) as { num_routes: number }).num_routes).toBe(2);
    const rogue = await dockerStatus(
      'run',
      '--rm',
      '--network',
      `${stack.project}_berth-internal`,
      'berth/nats:2.10',
      'busybox',
      'timeout',
      '5',
      'nats-server',
      '--cluster_name',
      'berth',
      '--cluster',
      'nats://0.0.0.0:6222',
      '--routes',
      'nats-route://route:swrong@nats-1:6222',
      '-DV',
    );
    expect(rogue.out).toMatch(/Authorization Violation/);
    expect(stack.env[natsPasswordVar('gateway')]).toBeTruthy();
  });
});
