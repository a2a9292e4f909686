import { join } from 'node:path';
import type { ContainerInspectInfo } from 'dockerode';
import type { CreateContainerReply } from '@berth/contracts';
import { request, type NatsConnection } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientNats, removeAllOf, startInfra, startInProcess, testHostEnv, type Infra, type RunningPoolManager } from './harness.js';
import { inspectByBerthId, newRequestId, waitForWarm } from './helpers.js';

const OWNER = 'hardening-owner';
const POOL = { name: 'default', targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 64, pids: 48, cpus: 0.5 };

describe('hardening of a claimed workspace', () => {
  let infra: Infra;
  let pm: RunningPoolManager;
  let nc: NatsConnection & { close(): Promise<void> };
  let hostId: string;
  let claimed: CreateContainerReply;
  let info: ContainerInspectInfo;

  beforeAll(async () => {
    infra = await startInfra();
    pm = await startInProcess(infra, testHostEnv({ POOLS: JSON.stringify([POOL]) }));
    hostId = pm.config.BERTH_HOST_ID;
    nc = await clientNats(infra, hostId);
    await waitForWarm(nc, 1);
    claimed = await request(nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER });
    info = await inspectByBerthId(hostId, claimed.id);
  });

  afterAll(async () => {
    await nc?.close();
    await pm?.stop();
    if (hostId) await removeAllOf(hostId);
    await infra?.dispose();
  });

  const exec = (command: string | string[]) => request(nc, 'containerExec', { id: claimed.id, owner: OWNER, command, timeoutMs: 10_000 });

  it('runs as a non-root user', () => {
    expect(info.Config.User).toBeTruthy();
    expect(info.Config.User).not.toMatch(/^(root|0)(:|$)/);
  });

  it('drops every capability, forbids new privileges and is not privileged', () => {
    expect(info.HostConfig.CapDrop).toContain('ALL');
    expect(info.HostConfig.CapAdd ?? []).toHaveLength(0);
    expect(info.HostConfig.SecurityOpt).toEqual(expect.arrayContaining([expect.stringMatching(/^no-new-privileges(:true)?$/)]));
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.Devices ?? []).toHaveLength(0);
  });

  it('has a read-only root filesystem with a tmpfs /tmp', () => {
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(Object.keys(info.HostConfig.Tmpfs ?? {})).toContain('/tmp');
  });

  it("carries the pool's pids, memory and CPU limits", () => {
    expect(info.HostConfig.PidsLimit).toBe(POOL.pids);
    expect(info.HostConfig.Memory).toBe(POOL.memoryMb * 1024 * 1024);
    expect(info.HostConfig.MemorySwap).toBe(POOL.memoryMb * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(POOL.cpus * 1e9);
  });

  it('mounts volumes only, besides its own agent socket directory; no Docker socket anywhere', () => {
    expect(info.HostConfig.Binds ?? []).toHaveLength(0);
    expect(info.Mounts.length).toBeGreaterThan(0);
    // The one bind: this workspace's agent directory (docker/agent/PROTOCOL.md), read-only; nothing else of the host.
    const agentDir = join(pm.config.AGENT_SOCKET_DIR, hostId, claimed.id);
    const binds = info.Mounts.filter((m) => m.Type === 'bind');
    expect(binds).toEqual([expect.objectContaining({ Source: agentDir, Destination: '/run/berth', RW: false })]);
    for (const m of info.Mounts.filter((x) => x.Type !== 'bind')) expect(m.Type, `${m.Destination}`).toBe('volume');
    for (const m of info.HostConfig.Mounts ?? []) expect(m.Type === 'volume' || (m.Type === 'bind' && m.Source === agentDir)).toBe(true);
    expect(info.Mounts.map((m) => m.Destination)).toContain('/workspace');
    expect(JSON.stringify(info)).not.toContain('docker.sock');
  });

  it('shares no host namespace and joins only the workspace network', () => {
    expect(info.HostConfig.NetworkMode).toBe(pm.config.WORKSPACE_NETWORK);
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([pm.config.WORKSPACE_NETWORK]);
    expect(info.HostConfig.PidMode ?? '').not.toBe('host');
    expect(info.HostConfig.IpcMode ?? '').not.toBe('host');
    expect((info.HostConfig as { UTSMode?: string }).UTSMode ?? '').not.toBe('host');
    expect(info.HostConfig.UsernsMode ?? '').not.toBe('host');
  });

  it('publishes its ports on the configured bind address only', () => {
    for (const bindings of Object.values(info.HostConfig.PortBindings as Record<string, { HostIp: string }[]>)) {
      for (const b of bindings) expect(b.HostIp).toBe(pm.config.PORT_BIND_ADDRESS);
    }
  });

  it('carries the berth labels reconcile rebuilds from', () => {
    expect(info.Config.Labels).toMatchObject({
      'berth.managed': 'true',
      'berth.id': claimed.id,
      'berth.pool': 'default',
      'berth.host': hostId,
      'berth.ports': JSON.stringify(claimed.ports),
    });
  });

  it('behaves hardened from the inside: not root, no capabilities, no new privileges', async () => {
    const id = await exec(['id', '-u']);
    expect(id.exitCode).toBe(0);
    expect(id.stdout.trim()).toMatch(/^\d+$/);
    expect(id.stdout.trim()).not.toBe('0');

    const status = await exec(['cat', '/proc/self/status']);
    expect(status.stdout).toMatch(/^CapEff:\s+0+$/m);
    expect(status.stdout).toMatch(/^CapBnd:\s+0+$/m);
    expect(status.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
  });

  it('cannot write to /, can write to /workspace and /tmp', async () => {
    const root = await exec('echo x > /berth-probe');
    expect(root.exitCode).not.toBe(0);
    const usr = await exec(['touch', '/usr/berth-probe']);
    expect(usr.exitCode).not.toBe(0);

    const ws = await exec('echo hello > /workspace/probe && cat /workspace/probe');
    expect(ws).toMatchObject({ exitCode: 0, stdout: 'hello\n' });
    const tmp = await exec('echo hello > /tmp/probe && cat /tmp/probe');
    expect(tmp).toMatchObject({ exitCode: 0, stdout: 'hello\n' });
    const mounts = await exec(['cat', '/proc/mounts']);
    expect(mounts.stdout).toMatch(/^\S+ \/tmp tmpfs /m);
    expect(mounts.stdout).toMatch(/^\S+ \/ \S+ ro[,\s]/m);
  });

  it('sees no Docker socket', async () => {
    const sock = await exec('ls -la /var/run/docker.sock /run/docker.sock /var/run/docker /run/docker 2>&1; find / -xdev -name "docker.sock" 2>/dev/null');
    expect(sock.stdout).not.toMatch(/^s/m);
    expect(sock.stdout).not.toMatch(/docker\.sock$/m);
  });
});
