import { EVENTS, LOGS, SUBJECTS, natsPasswordVar, natsPermissions, natsServices } from '@berth/contracts';
import { callApi, nodeImage } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerStatus, inspect, tcpProbe } from './docker.js';
import { devStackServices, startDevStack, type TestStack } from './stack.js';
import { matchesAny } from './subject-match.js';

// The dev compose stack from scratch, through its published gateway port, with a fake upstream
// on a network this test creates playing "the outside".
let stack: TestStack;
let outside: string;
let upstream: { id: string; ip: string };
// Infrastructure and every service whose code is on this checkout (scripts/stack starts the same set).
const SERVICES = devStackServices();
/** Services that may mount the Docker socket, and whether read-only. */
const SOCKET: Record<string, 'rw' | 'ro'> = { 'pool-manager': 'rw', 'image-builder': 'rw', 'log-streamer': 'ro' };

const api = (method: string, path: string, body?: unknown) => callApi(stack.url, stack.token, method, path, body);

const ipOn = async (id: string, networkSuffix: string) => {
  const nets = (await inspect<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }>(id)).NetworkSettings.Networks;
  const name = Object.keys(nets).find((n) => n.endsWith(networkSuffix)) ?? '';
  return nets[name]?.IPAddress ?? '';
};

beforeAll(async () => {
  stack = await startDevStack();
  outside = `${stack.project}-outside`;
  await docker('network', 'create', '--label', `berth.test=${stack.project}`, outside);
  const id = await docker(
    'run',
    '-d',
    '--name',
    `${stack.project}-upstream`,
    '--network',
    outside,
    '--user',
    '1001',
    '--cap-drop',
    'ALL',
    nodeImage(),
    'node',
    '-e',
    "require('http').createServer((q,s)=>s.end('outside')).listen(8080)",
  );
  upstream = { id, ip: await ipOn(id, outside) };
}, 180_000);

afterAll(async () => {
  if (upstream) await docker('rm', '-f', upstream.id).catch(() => undefined);
  if (outside) await docker('network', 'rm', outside).catch(() => undefined);
  if (stack) await stack.down();
}, 120_000);

describe('dev compose stack', () => {
  it('brings every service up healthy', async () => {
    type State = { RestartCount: number; State: { Health?: { Status: string; Log?: { ExitCode: number; Output: string }[] } } };
    for (const s of SERVICES) {
      const id = await stack.container(s);
      expect(id, s).not.toBe('');
      // `scripts/stack up` saw them all healthy; a service whose container restarted since then
      // (seen once on a loaded CI machine) starts its health over, so it gets a while to be healthy again.
      let state = await inspect<State>(id);
      for (let i = 0; i < 60 && state.State.Health?.Status !== 'healthy'; i++) {
        await new Promise((r) => setTimeout(r, 1_000));
        state = await inspect<State>(id);
      }
      const why = `${s}: restarts ${state.RestartCount}, last probes ${JSON.stringify(state.State.Health?.Log?.slice(-3))}`;
      if (state.RestartCount > 0) console.warn(why);
      expect(state.State.Health?.Status, why).toBe('healthy');
    }
  });

  it('claims, execs in and deletes a container through the published gateway port', async () => {
    const created = await api('POST', '/api/containers', {});
    expect(created.status).toBe(201);
    const id = String(created.json.id);
    const exec = await api('POST', `/api/containers/${id}/exec`, { command: 'echo hello from $(id -u)', timeout: 10_000 });
    expect(exec.json).toMatchObject({ exitCode: 0, stdout: 'hello from 1000\n' });
    // A streaming exec needs the generated stream permissions (control subject, gateway inbox).
    const streamed = await fetch(`${stack.url}/api/containers/${id}/exec?stream=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'echo streamed', timeout: 10_000 }),
    });
    const lines = (await streamed.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; data?: string; exitCode?: number });
    expect(lines.at(-1)).toMatchObject({ type: 'exit', exitCode: 0 });
    expect(JSON.stringify(lines)).toContain('streamed');
    expect((await api('DELETE', `/api/containers/${id}`)).json).toMatchObject({ id, removed: true });
    expect((await api('GET', `/api/containers/${id}`)).status).toBe(404);
  });

  it("streams a workspace's output through log-streamer and LOGS to the gateway's logs route", async () => {
    const id = String((await api('POST', '/api/containers', {})).json.id);
    try {
      const marker = `compose-logs-${Date.now()}`;
      await api('POST', `/api/containers/${id}/exec`, { command: `echo ${marker} > /proc/1/fd/1`, timeout: 10_000 });
      let body = '';
      for (let i = 0; i < 100 && !body.includes(marker); i++) {
        const res = await fetch(`${stack.url}/api/containers/${id}/logs?follow=false`, { headers: { authorization: `Bearer ${stack.token}` } });
        expect(res.status, await res.clone().text()).toBe(200);
        body = await res.text();
        if (!body.includes(marker)) await new Promise((r) => setTimeout(r, 200));
      }
      expect(body).toContain(marker);
    } finally {
      await api('DELETE', `/api/containers/${id}`);
    }
  });

  it('keeps a workspace away from NATS, Redis, the services and the outside', async () => {
    const targets: string[] = [`${upstream.ip}:8080`];
    const ports: Record<string, number> = {
      nats: 4222,
      redis: 6379,
      gateway: 8080,
      'pool-manager': 9101,
      'log-streamer': 9102,
      'repo-cache': 9103,
      'image-builder': 9104,
      egress: 9105,
    };
    for (const s of SERVICES) targets.push(`${await ipOn(await stack.container(s), '_berth-internal')}:${ports[s] ?? 0}`);
    targets.push(`${await ipOn(await stack.container('gateway'), '_berth-edge')}:8080`);
    const ws = await api('POST', '/api/containers', {});
    const id = String(ws.json.id);
    try {
      const script = `for t in ${targets.join(' ')}; do (if timeout 2 bash -c "</dev/tcp/\${t%:*}/\${t#*:}" 2>/dev/null; then echo "open $t"; else echo "closed $t"; fi) & done; wait`;
      const res = await api('POST', `/api/containers/${id}/exec`, { command: ['bash', '-c', script], timeout: 30_000 });
      expect(res.json.exitCode).toBe(0);
      expect(String(res.json.stdout).trim().split('\n').sort()).toEqual(targets.map((t) => `closed ${t}`).sort());
    } finally {
      await api('DELETE', `/api/containers/${id}`);
    }
    // Control: the upstream answers anyone on the outside network (egress's place, later).
    const probe = await dockerStatus('run', '--rm', '--network', outside, nodeImage(), 'node', '-e', tcpProbe(upstream.ip, 8080));
    expect(probe.ok, probe.out).toBe(true);
  });

  // Inter-container traffic is off on berth-workspaces; scripts/stack's host firewall lets egress's proxy through.
  it.runIf(SERVICES.includes('egress'))("lets a workspace reach egress's proxy port on berth-workspaces, and no other workspace or egress port", async () => {
    const [a, b] = [String((await api('POST', '/api/containers', {})).json.id), String((await api('POST', '/api/containers', {})).json.id)];
    try {
      const bRef = await docker('ps', '-q', '--filter', `label=berth.id=${b}`);
      await docker('exec', '-d', bRef, 'node', '-e', "require('net').createServer((s)=>s.end('b')).listen(7000)");
      const egressIp = await ipOn(await stack.container('egress'), stack.env.WORKSPACE_NETWORK ?? '');
      const targets = [`${egressIp}:3128`, `${egressIp}:9105`, `${await ipOn(bRef, stack.env.WORKSPACE_NETWORK ?? '')}:7000`];
      await new Promise((r) => setTimeout(r, 500));
      const script = `for t in ${targets.join(' ')}; do (if timeout 2 bash -c "</dev/tcp/\${t%:*}/\${t#*:}" 2>/dev/null; then echo "open $t"; else echo "closed $t"; fi) & done; wait`;
      const res = await api('POST', `/api/containers/${a}/exec`, { command: ['bash', '-c', script], timeout: 30_000 });
      expect(String(res.json.stdout).trim().split('\n').sort()).toEqual([`open ${targets[0]}`, `closed ${targets[1]}`, `closed ${targets[2]}`].sort());
    } finally {
      await api('DELETE', `/api/containers/${a}`);
      await api('DELETE', `/api/containers/${b}`);
    }
  });

  it('leaves every service but egress no way to the outside, while they reach NATS', async () => {
    const probes = await Promise.all(
      SERVICES.filter((x) => !['nats', 'redis', 'egress'].includes(x)).map(async (s) => {
        const id = await stack.container(s);
        const [out, nats] = await Promise.all(
          [tcpProbe(upstream.ip, 8080), tcpProbe('nats', 4222)].map(async (p) => (await dockerStatus('exec', id, 'node', '-e', p)).ok),
        );
        return [s, { upstream: out, nats }] as const;
      }),
    );
    expect(probes.length).toBeGreaterThan(2);
    for (const [s, r] of probes) expect(r, s).toEqual({ upstream: false, nats: true });
  });

  // The outside, from berth's side, is what berth-egress leads to: the upstream joins it too.
  it.runIf(SERVICES.includes('egress'))('lets egress, and only egress, reach an upstream on berth-egress', async () => {
    const net = `${stack.project}_berth-egress`;
    await docker('network', 'connect', net, upstream.id);
    try {
      const ip = await ipOn(upstream.id, net);
      expect((await dockerStatus('exec', await stack.container('egress'), 'node', '-e', tcpProbe(ip, 8080))).ok, 'egress → upstream').toBe(true);
      for (const s of SERVICES.filter((x) => !['egress', 'nats', 'redis'].includes(x))) {
        expect((await dockerStatus('exec', await stack.container(s), 'node', '-e', tcpProbe(ip, 8080))).ok, `${s} → upstream`).toBe(false);
      }
    } finally {
      await docker('network', 'disconnect', '-f', net, upstream.id).catch(() => undefined);
    }
  });

  it('refuses every service NATS user the subjects outside its list', async () => {
    const requestSubjects = Object.values(SUBJECTS).map((e) => e.subject);
    const event = EVENTS.container.subject('ws_0123456789abcdef', 'claimed');
    const probes = natsServices().map((s) => {
      const p = natsPermissions(s);
      const publish = [
        ...requestSubjects,
        event,
        LOGS.subject('ws_0123456789abcdef', 'stdout'),
        '$JS.API.INFO',
        '$JS.API.STREAM.DELETE.EVENTS',
        '$JS.API.STREAM.DELETE.LOGS',
        '$JS.API.CONSUMER.CREATE.EVENTS',
        '$JS.API.CONSUMER.CREATE.LOGS',
        '$JS.ACK.EVENTS.egress-callbacks.1.1.1.1.1',
        'berth.other.thing',
      ];
      const subscribe = [...requestSubjects, 'berth.evt.>', '>', ...natsServices().map((o) => `_INBOX.${o}.probe`)];
      return {
        service: s,
        expected: {
          refusedPublish: publish.filter((x) => !matchesAny(x, p.publish)).sort(),
          refusedSubscribe: subscribe.filter((x) => !(p.subscribe.includes(x) || matchesAny(x, p.subscribe))).sort(),
        },
        probe: { url: 'nats://nats:4222', user: s, password: stack.env[natsPasswordVar(s)] ?? '', publish, subscribe },
      };
    });
    const wrong = { url: 'nats://nats:4222', user: 'gateway', password: 'swrong', publish: [], subscribe: [] };
    const out = await docker(
      'exec',
      '-e',
      `NATS_PROBES=${JSON.stringify([...probes.map((p) => p.probe), wrong])}`,
      await stack.container('pool-manager'),
      'node',
      '--import',
      'tsx',
      'test/stack/nats-probe.ts',
    );
    const results = JSON.parse(out) as { user: string; connected: boolean; refusedPublish: string[]; refusedSubscribe: string[] }[];
    for (const [i, p] of probes.entries()) {
      const r = results[i];
      expect(r?.connected, p.service).toBe(true);
      expect({ refusedPublish: r?.refusedPublish.sort(), refusedSubscribe: r?.refusedSubscribe.sort() }, p.service).toEqual(p.expected);
      expect(p.expected.refusedPublish.length + p.expected.refusedSubscribe.length).toBeGreaterThan(5);
    }
    expect(results.at(-1)?.connected, 'wrong password').toBe(false);
  });

  it('hardens every service and workspace container', async () => {
    const ws = await docker('ps', '-q', '--filter', `label=berth.host=${stack.hostId}`);
    const wsIds = ws.split('\n').filter(Boolean);
    expect(wsIds.length).toBeGreaterThan(0);
    const targets = [
      ...(await Promise.all(SERVICES.map(async (s) => [s, await stack.container(s)] as const))),
      ...wsIds.map((id) => ['workspace', id] as const),
    ];
    for (const [name, id] of targets) {
      const c = await inspect<{
        Config: { User: string };
        HostConfig: {
          CapDrop: string[] | null;
          SecurityOpt: string[] | null;
          ReadonlyRootfs: boolean;
          Memory: number;
          NanoCpus: number;
          CpuQuota: number;
          PidsLimit: number | null;
          Privileged: boolean;
        };
        Mounts: { Source: string; RW: boolean }[];
      }>(id);
      expect(['', 'root', '0'].includes(c.Config.User.split(':')[0] ?? ''), `${name} user ${c.Config.User}`).toBe(false);
      expect(c.HostConfig.CapDrop, name).toContain('ALL');
      expect(
        c.HostConfig.SecurityOpt?.some((o) => o.startsWith('no-new-privileges')),
        name,
      ).toBe(true);
      expect(c.HostConfig.ReadonlyRootfs, name).toBe(true);
      expect(c.HostConfig.Privileged, name).toBe(false);
      expect(c.HostConfig.Memory, name).toBeGreaterThan(0);
      expect(c.HostConfig.NanoCpus + c.HostConfig.CpuQuota, name).toBeGreaterThan(0);
      expect(c.HostConfig.PidsLimit ?? 0, name).toBeGreaterThan(0);
      const socket = c.Mounts.find((m) => m.Source.endsWith('docker.sock'));
      expect(socket ? (socket.RW ? 'rw' : 'ro') : undefined, `${name} docker socket`).toBe(SOCKET[name]);
    }
  });
});
