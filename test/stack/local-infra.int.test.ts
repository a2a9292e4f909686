import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsPasswordVar, natsServices, type ServiceName } from '@berth/contracts';
import { connectNats, createLogger, createRedis, type NatsConnection, type Redis } from '@berth/service-kit';
import { freePort, repoRoot } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SUBSCRIBER_HASH, TEST_SUBSCRIBER_PASSWORD } from '../support/nats-auth.js';

// Local mode's NATS and Redis (scripts/lib/local-infra.sh, started as scripts/up starts them) run
// the compose stack's generated users and ACLs with .env's passwords: no anonymous client is
// accepted, and each service, started through scripts/lib/service-env as scripts/up starts it,
// gets its own credentials and only those.
const root = repoRoot();
const logger = createLogger('local-infra-test', 'silent');
const state = mkdtempSync(join(tmpdir(), 'berth-local-infra-'));
const secret = () => `s${randomBytes(12).toString('hex')}`;
const secrets: Record<string, string> = {
  ...Object.fromEntries(natsServices().map((s) => [natsPasswordVar(s), secret()])),
  REDIS_PASSWORD_POOL_MANAGER: secret(),
  REDIS_PASSWORD_REPO_CACHE: secret(),
  REDIS_PASSWORD_EGRESS: secret(),
  BERTH_API_TOKEN: secret(),
  EGRESS_SECRET_KEY: secret(),
};
let env: NodeJS.ProcessEnv;
let natsUrl: string;
const nats: NatsConnection[] = [];
const redis: Redis[] = [];

const infra = (fn: 'infra_start' | 'infra_stop') =>
  execFileSync('bash', ['-c', `set -euo pipefail; . scripts/lib/env.sh; . scripts/lib/local-infra.sh; ${fn}`], { cwd: root, env, encoding: 'utf8' });

/** The credentials scripts/up hands `service` (scripts/lib/service-env), and which other secrets it sees. */
function serviceEnv(service: ServiceName): { user?: string; password?: string; redisUrl?: string; leaked: string[] } {
  const probe = `const e = process.env; console.log(JSON.stringify({ user: e.NATS_USER, password: e.NATS_PASSWORD, redisUrl: e.REDIS_URL,
    leaked: Object.keys(e).filter((k) => ${JSON.stringify(Object.keys(secrets))}.includes(k)) }))`;
  return JSON.parse(execFileSync('scripts/lib/service-env', [service, process.execPath, '-e', probe], { cwd: root, env, encoding: 'utf8' })) as ReturnType<
    typeof serviceEnv
  >;
}

const connect = async (user?: string, password?: string) => {
  const nc = await connectNats({ url: natsUrl, name: `local-infra-${user ?? 'anonymous'}`, user, password, logger });
  nats.push(nc);
  return nc;
};
const redisAs = (url: string) => {
  const r = createRedis({ url, name: 'local-infra-test', logger });
  redis.push(r);
  return r;
};

beforeAll(async () => {
  const [natsPort, monitorPort, redisPort] = [await freePort(), await freePort(), await freePort()];
  natsUrl = `nats://127.0.0.1:${natsPort}`;
  // A subscriber, as an operator lists one (a bcrypt hash, never the password).
  writeFileSync(join(state, 'subscribers.json'), JSON.stringify([{ name: 'billing', password: TEST_SUBSCRIBER_HASH }]));
  env = {
    ...process.env,
    ...secrets,
    NATS_SUBSCRIBERS_FILE: join(state, 'subscribers.json'),
    BERTH_STATE: state,
    NATS_PORT: String(natsPort),
    NATS_MONITOR_PORT: String(monitorPort),
    REDIS_PORT: String(redisPort),
  };
  infra('infra_start');
});
afterAll(async () => {
  for (const nc of nats) await nc.close().catch(() => undefined);
  for (const r of redis) r.disconnect();
  infra('infra_stop');
  rmSync(state, { recursive: true, force: true });
});

describe('local mode (scripts/up) NATS and Redis', () => {
  it('refuses an anonymous NATS client and a wrong password', async () => {
    await expect(connect()).rejects.toThrow(/authorization|auth/i);
    await expect(connect('gateway', 'swrong')).rejects.toThrow(/authorization|auth/i);
  });

  it('lets a subscriber of NATS_SUBSCRIBERS_FILE in with its password, to its own subjects only', async () => {
    const nc = await connect('billing', TEST_SUBSCRIBER_PASSWORD);
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
    })();
    nc.subscribe('berth.evt.>', { callback: () => undefined });
    nc.publish('berth.container.delete', '{}');
    await nc.flush();
    await new Promise((r) => setTimeout(r, 200));
    expect(errors.join('\n')).toMatch(/Permissions Violation for Publish to "berth.container.delete"/);
    expect(errors.join('\n')).not.toMatch(/berth\.evt/);
    await expect(connect('billing', 'swrong')).rejects.toThrow(/authorization|auth/i);
  });

  it('refuses to start NATS with a subscribers file that holds a plaintext password', () => {
    const bad = join(state, 'bad-subscribers.json');
    writeFileSync(bad, JSON.stringify([{ name: 'billing', password: 'secret123' }]));
    const run = () =>
      execFileSync(
        'bash',
        ['-c', `set -euo pipefail; . scripts/lib/env.sh; . scripts/lib/local-infra.sh; BERTH_STATE=${state}/bad infra_write_nats_conf 1 2`],
        { cwd: root, env: { ...env, NATS_SUBSCRIBERS_FILE: bad }, encoding: 'utf8', stdio: 'pipe' },
      );
    expect(run).toThrow(/bcrypt/);
  });

  it('refuses every unauthenticated Redis command but PING', async () => {
    const r = redisAs(`redis://127.0.0.1:${env.REDIS_PORT}`);
    expect(await r.ping()).toBe('PONG');
    await expect(r.set('berth:host:local:x', '1')).rejects.toThrow(/NOPERM|no permissions/i);
    await expect(r.get('berth:cb:x')).rejects.toThrow(/NOPERM|no permissions/i);
    await expect(r.keys('*')).rejects.toThrow(/NOPERM|no permissions/i);
    await expect(r.call('CONFIG', 'GET', '*')).rejects.toThrow(/NOPERM|no permissions/i);
  });

  it.each(natsServices())('%s gets only its own credentials, and they work', async (service) => {
    const got = serviceEnv(service);
    expect(got.user).toBe(service);
    expect(got.password).toBe(secrets[natsPasswordVar(service)]);
    const own = [...(service === 'gateway' ? ['BERTH_API_TOKEN'] : []), ...(service === 'egress' ? ['EGRESS_SECRET_KEY'] : [])];
    expect(got.leaked.sort()).toEqual(own.sort());
    const nc = await connect(got.user, got.password);
    await nc.flush();
    expect(nc.isClosed()).toBe(false);
    const redisVar = `REDIS_PASSWORD_${service.toUpperCase().replaceAll('-', '_')}`;
    if (secrets[redisVar] === undefined) {
      expect(got.redisUrl).toBeUndefined();
      return;
    }
    expect(got.redisUrl).toBe(`redis://${service}:${secrets[redisVar]}@127.0.0.1:${env.REDIS_PORT}`);
    const prefix = { 'pool-manager': 'berth:host:local:', 'repo-cache': 'berth:repo-cache:', egress: 'berth:cb:' }[service as string];
    const r = redisAs(got.redisUrl!);
    await r.set(`${prefix}probe`, 'ok');
    expect(await r.get(`${prefix}probe`)).toBe('ok');
    await expect(r.get('berth:other:probe')).rejects.toThrow(/NOPERM|no permissions/i);
  });
});
