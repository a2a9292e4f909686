import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsPasswordVar, natsServices } from '@berth/contracts';
import { connectNats, createLogger, drainNats } from '@berth/service-kit';
import { ServerProcess, natsServerBin, repoRoot } from '@berth/service-kit/testing';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SUBSCRIBER_HASH, TEST_SUBSCRIBER_PASSWORD } from '../support/nats-auth.js';
import { authorizationBlock } from '../../packages/contracts/scripts/nats-config.js';
import { renderCompose } from './compose-config.js';

// Both compose stacks publish NATS for other systems on NATS_PUBLISH, with TLS from NATS_TLS_DIR
// (scripts/stack adds docker/nats/compose.{publish,tls}.<dev|prod>.yml): the rendered
// configuration, then docker/nats/tls.conf's TLS on a real nats-server.
const root = repoRoot();
const dir = mkdtempSync(join(tmpdir(), 'berth-nats-publish-'));
const passwords = Object.fromEntries(natsServices().map((s, i) => [natsPasswordVar(s), `s${String(i).padStart(30, '0')}`]));

interface Service {
  ports?: (string | { published?: string | number; target?: number; host_ip?: string })[];
  networks?: Record<string, unknown> | string[];
  command?: string[];
  volumes?: (string | { source?: string; target: string })[];
}
interface Rendered {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean; driver_opts?: Record<string, string> }>;
}

async function render(flavour: 'dev' | 'prod', env: Record<string, string>): Promise<Rendered> {
  const main = flavour === 'dev' ? 'docker-compose.dev.yml' : 'infra/docker-compose.prod.yml';
  const extra = [
    ...(env.BERTH_NATS_CONFIG_DIR ? [`docker/nats/compose.subscribers.${flavour}.yml`] : []),
    ...(env.NATS_PUBLISH ? [`docker/nats/compose.publish.${flavour}.yml`] : []),
    ...(env.NATS_TLS_DIR ? [`docker/nats/compose.tls.${flavour}.yml`] : []),
  ];
  return (await renderCompose('berthpublishcheck', [main, ...extra], { ...passwords, ...env })) as Rendered;
}

const networksOf = (s: Service | undefined) => (Array.isArray(s?.networks) ? s.networks : Object.keys(s?.networks ?? {})).sort();
const portsOf = (s: Service | undefined) =>
  (s?.ports ?? []).map((p) => (typeof p === 'string' ? p : `${p.host_ip ?? ''}:${p.published ?? ''}:${p.target ?? ''}`));

describe.each([
  ['dev', 'nats'],
  ['prod', 'nats-1'],
] as const)('the %s stack', (flavour, node) => {
  it('publishes no NATS port unless NATS_PUBLISH is set', async () => {
    expect(portsOf((await render(flavour, {})).services[node])).toEqual([]);
  });

  it('publishes NATS on NATS_PUBLISH, on a network of its own without NAT, and serves TLS from NATS_TLS_DIR', async () => {
    const cfg = await render(flavour, { NATS_PUBLISH: '127.0.0.1:14222', NATS_TLS_DIR: dir });
    const nats = cfg.services[node];
    expect(portsOf(nats).join(' ')).toMatch(/127\.0\.0\.1:14222:4222/);
    expect(networksOf(nats)).toEqual(['berth-internal', 'berth-nats-public']);
    const net = Object.entries(cfg.networks).find(([k]) => k.endsWith('berth-nats-public'))?.[1];
    expect(net?.internal ?? false).toBe(false);
    expect(net?.driver_opts?.['com.docker.network.bridge.enable_ip_masquerade']).toBe('false');
    for (const n of flavour === 'dev' ? ['nats'] : ['nats-1', 'nats-2', 'nats-3']) {
      expect(cfg.services[n]?.command?.join(' ')).toMatch(/-c \/etc\/nats\/(tls|nats-tls)\.conf$/);
      expect((cfg.services[n]?.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`)).join(' ')).toContain(`${dir}:/etc/nats/tls`);
    }
  });

  it('mounts the configuration generated with the subscribers (scripts/stack sets BERTH_NATS_CONFIG_DIR), TLS or not', async () => {
    const generated = join(dir, 'generated');
    const file = flavour === 'dev' ? 'nats-server.conf' : 'authorization.conf';
    for (const env of [{ BERTH_NATS_CONFIG_DIR: generated }, { BERTH_NATS_CONFIG_DIR: generated, NATS_TLS_DIR: dir }] as Record<string, string>[]) {
      const cfg = await render(flavour, env);
      for (const n of flavour === 'dev' ? ['nats'] : ['nats-1', 'nats-2', 'nats-3']) {
        const mounts = (cfg.services[n]?.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
        expect(mounts.filter((m) => m.includes(`/etc/nats/${file}`)).map((m) => m.replace(/:ro$/, ''))).toEqual([`${generated}/${file}:/etc/nats/${file}`]);
      }
    }
  });
});

describe('docker/nats/tls.conf on a real nats-server', () => {
  let nats: ServerProcess;
  let url: string;
  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    Object.assign(process.env, passwords);
    // tls.conf as committed, its certificate paths pointed at this test's directory; the config it includes with this test's port.
    const tls = readFileSync(join(root, 'docker', 'nats', 'tls.conf'), 'utf8').replaceAll('/etc/nats/tls', dir);
    nats = await ServerProcess.start(natsServerBin(), (port, data) => {
      writeFileSync(
        join(data, 'nats-server.conf'),
        `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${data}" }\n${authorizationBlock([{ name: 'billing', password: TEST_SUBSCRIBER_HASH }])}`,
      );
      writeFileSync(join(data, 'tls.conf'), tls);
      return ['-c', join(data, 'tls.conf')];
    });
    url = `nats://127.0.0.1:${nats.port}`;
  });
  afterAll(async () => {
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives an outside subscriber TLS with the certificate, and refuses a client that cannot verify it', async () => {
    const nc = await connect({
      servers: url,
      user: 'billing',
      pass: TEST_SUBSCRIBER_PASSWORD,
      tls: { ca: readFileSync(join(dir, 'cert.pem'), 'utf8') },
      reconnect: false,
    });
    expect(nc.info?.tls_available ?? nc.info?.tls_required).toBe(true);
    await nc.close();
    await expect(connect({ servers: url, user: 'billing', pass: TEST_SUBSCRIBER_PASSWORD, reconnect: false, timeout: 3_000 })).rejects.toThrow(/certificate/i);
  });

  it("still lets berth's services in on the private network without TLS", async () => {
    const nc = await connectNats({
      url,
      name: 'test-gateway',
      user: 'gateway',
      password: passwords[natsPasswordVar('gateway')],
      logger: createLogger('t', 'silent'),
    });
    await nc.flush();
    await drainNats(nc);
  });
});
