import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@berth/service-kit/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { placeholderSecret, renderCompose } from './compose-config.js';

// infra/docker-compose.prod.yml as compose renders it (`config` validates it too), inspected for
// the hardening the issue asks of production. Bringing the prod stack up needs the service images,
// whose build fetches packages from the npm registry; tests use no outside network, so this
// inspects the configuration only (scripts/stack --prod up runs it for real).
interface Service {
  image: string;
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  restart?: string;
  mem_limit?: string | number;
  cpus?: number | string;
  pids_limit?: number;
  ports?: unknown[];
  networks?: Record<string, unknown> | string[];
  volumes?: (string | { source?: string; target: string; read_only?: boolean })[];
  environment?: Record<string, string>;
  healthcheck?: unknown;
  command?: string[];
}
interface Rendered {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean; driver_opts?: Record<string, string> }>;
}

let cfg: Rendered;

beforeAll(async () => {
  cfg = (await renderCompose('berthprodcheck', ['infra/docker-compose.prod.yml'])) as Rendered;
});

const networksOf = (s: Service) => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {})).sort();
const socketMount = (s: Service) =>
  (s.volumes ?? [])
    .map((v) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] ?? '', read_only: v.endsWith(':ro') } : v))
    .find((v) => v.target === '/var/run/docker.sock');

describe('infra/docker-compose.prod.yml', () => {
  it('runs every service from built images, with NATS as a three-node cluster', () => {
    expect(Object.keys(cfg.services).sort()).toEqual([
      'egress',
      'gateway',
      'image-builder',
      'log-streamer',
      'nats-1',
      'nats-2',
      'nats-3',
      'pool-manager',
      'redis',
      'repo-cache',
    ]);
    for (const s of ['gateway', 'pool-manager', 'log-streamer', 'repo-cache', 'egress', 'image-builder']) {
      expect(cfg.services[s]?.image, s).toMatch(new RegExp(`^berth/${s}:`));
      expect(cfg.services[s]?.command, `${s} runs its image's command, not tsx watch`).toBeUndefined();
    }
  });

  it.each(['nats-1', 'nats-2', 'nats-3', 'redis', 'gateway', 'pool-manager', 'log-streamer', 'repo-cache', 'egress', 'image-builder'])('hardens %s', (name) => {
    const s = cfg.services[name] as Service;
    expect(s.user).toBe('1001:1001');
    expect(s.read_only).toBe(true);
    expect(s.cap_drop).toEqual(['ALL']);
    expect(s.security_opt).toContain('no-new-privileges:true');
    expect(s.restart).toBe('always');
    expect(Number.parseInt(String(s.mem_limit), 10)).toBeGreaterThan(0);
    expect(Number(s.cpus)).toBeGreaterThan(0);
    expect(s.pids_limit).toBeGreaterThan(0);
    expect(s.ports ?? [], 'only the gateway publishes a port').toHaveLength(name === 'gateway' ? 1 : 0);
  });

  it('builds every service image from compiled code: tsc to dist/, node dist/main.js, no tsx', () => {
    const services = readdirSync(join(repoRoot(), 'services')).filter((s) => existsSync(join(repoRoot(), 'services', s, 'src', 'main.ts')));
    expect(services.length).toBeGreaterThan(2);
    const build = JSON.parse(readFileSync(join(repoRoot(), 'tsconfig.build.json'), 'utf8')) as { references: { path: string }[] };
    for (const s of services) {
      const pkg = JSON.parse(readFileSync(join(repoRoot(), 'services', s, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      expect(pkg.dependencies?.tsx, `services/${s}/package.json: no tsx at run time`).toBeUndefined();
      expect(
        build.references.map((r) => r.path),
        `tsconfig.build.json builds ${s}`,
      ).toContain(`services/${s}/tsconfig.build.json`);
    }
    const dockerfile = readFileSync(join(repoRoot(), 'docker', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^CMD \["node", "--conditions=berth-dist", "dist\/main\.js"\]$/m);
    expect(dockerfile).not.toMatch(/tsx/);
  });

  it('mounts the Docker socket only where needed, read-only for log-streamer', () => {
    const sockets = Object.fromEntries(Object.entries(cfg.services).map(([n, s]) => [n, socketMount(s)?.read_only]));
    expect(Object.entries(sockets).filter(([, ro]) => ro !== undefined)).toEqual(
      [
        ['pool-manager', false],
        ['log-streamer', true],
        ['image-builder', false],
      ].sort() as [string, boolean][],
    );
  });

  it('places the networks as DESIGN.md does: only egress has a route out, only the gateway is on the edge', () => {
    expect(cfg.networks['berth-internal']?.internal).toBe(true);
    for (const n of ['berth-edge', 'berth-workspaces'])
      expect(cfg.networks[n]?.driver_opts?.['com.docker.network.bridge.enable_ip_masquerade'], n).toBe('false');
    expect(cfg.networks['berth-workspaces']?.driver_opts?.['com.docker.network.bridge.enable_icc']).toBe('false');
    const on = (net: string) =>
      Object.entries(cfg.services)
        .filter(([, s]) => networksOf(s).includes(net))
        .map(([n]) => n)
        .sort();
    expect(on('berth-egress')).toEqual(['egress']);
    expect(on('berth-workspaces')).toEqual(['egress']);
    expect(on('berth-edge')).toEqual(['gateway']);
    expect(on('berth-internal')).toEqual(Object.keys(cfg.services).sort());
  });

  it('gives every service the three NATS nodes and the stream managers three replicas (docs/nats-cluster.md)', () => {
    for (const s of ['gateway', 'pool-manager', 'log-streamer', 'repo-cache', 'egress', 'image-builder']) {
      expect(cfg.services[s]?.environment?.NATS_URL, s).toBe('nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222');
    }
    for (const s of ['pool-manager', 'log-streamer', 'image-builder']) expect(cfg.services[s]?.environment?.JETSTREAM_REPLICAS, s).toBe('3');
  });

  it('authenticates NATS routes with the route password and gives every service its own NATS and Redis user', () => {
    for (const n of ['nats-1', 'nats-2', 'nats-3']) {
      const env = cfg.services[n]?.environment ?? {};
      expect(env.NATS_ROUTE_PASSWORD).toBe(placeholderSecret('NATS_ROUTE_PASSWORD'));
      for (const i of [1, 2, 3]) expect(env[`NATS_ROUTE_${i}`]).toBe(`nats-route://route:${placeholderSecret('NATS_ROUTE_PASSWORD')}@nats-${i}:6222`);
    }
    for (const s of ['gateway', 'pool-manager', 'log-streamer', 'repo-cache', 'egress', 'image-builder']) {
      expect(cfg.services[s]?.environment?.NATS_USER, s).toBe(s);
    }
    expect(cfg.services['pool-manager']?.environment?.REDIS_URL).toMatch(/^redis:\/\/pool-manager:/);
    expect(cfg.services['repo-cache']?.environment?.REDIS_URL).toMatch(/^redis:\/\/repo-cache:/);
    expect(cfg.services.egress?.environment?.REDIS_URL).toMatch(/^redis:\/\/egress:/);
    expect(cfg.services.redis?.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
  });
});
