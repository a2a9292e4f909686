import { BerthError, type HostHeartbeat } from '@berth/contracts';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { hostRoutedBackend } from '../src/hosts/host-backend.js';
import { HostDirectory } from '../src/hosts/host-view.js';
import { KeyRing } from '../src/keys/api-key.js';
import { AUTH, FakeBackend, JSON_HEADERS, TOKEN, containerView, type Handlers } from './helpers.js';
import { heartbeat } from './host-beats.js';

const ON_H2 = 'ws_h2_0123456789abcdef';

async function hostsApp(handlers: Handlers, beats: HostHeartbeat[]) {
  const clock = { t: 1_000_000 };
  const hosts = new HostDirectory(3000, () => clock.t);
  for (const b of beats) hosts.heard(b);
  const fake = new FakeBackend(handlers);
  const backend = hostRoutedBackend(fake, { directory: hosts, policy: 'spread', fallbackHost: 'local' });
  const app = await buildApp({ backend, apiToken: TOKEN, hosts });
  return { app, fake, hosts, clock };
}

const created = (id: string) => ({ ...containerView(id), warm: true });

describe('many Docker hosts behind the gateway', () => {
  it('a create goes to the host placement picks; requests about a workspace to the host in its id', async () => {
    const { app, fake } = await hostsApp(
      {
        containerCreate: (_d, opts) => created(`ws_${opts!.hostId!}_0123456789abcdef`),
        containerGet: (d) => containerView(d.id),
      },
      [heartbeat('h1', { containers: 4, warm: 2 }), heartbeat('h2', { containers: 1, warm: 2 })],
    );
    const res = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: { pool: 'default' } });
    expect(res.statusCode).toBe(201);
    expect(fake.callsTo('containerCreate')[0]!.opts?.hostId).toBe('h2');
    expect(res.json().id).toBe(ON_H2);
    const got = await app.inject({ method: 'GET', url: `/api/containers/${ON_H2}`, headers: AUTH });
    expect(got.statusCode).toBe(200);
  });

  it('a create that finds its host full tries the next one; all full is 503 with Retry-After', async () => {
    const { app, fake } = await hostsApp(
      {
        containerCreate: (_d, opts) => {
          if (opts?.hostId === 'h1') throw new BerthError('CAPACITY_EXHAUSTED', 'full', { retryAfterSeconds: 5 });
          return created('ws_h2_0123456789abcdef');
        },
      },
      [heartbeat('h1', { warm: 3 }), heartbeat('h2', { containers: 5 })],
    );
    const res = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: {} });
    expect(res.statusCode).toBe(201);
    expect(fake.callsTo('containerCreate').map((c) => c.opts?.hostId)).toEqual(['h1', 'h2']);

    // A host that looks full is still asked (its heartbeat may be a second old); it says so itself.
    const full = await hostsApp(
      {
        containerCreate: () => {
          throw new BerthError('CAPACITY_EXHAUSTED', 'full', { retryAfterSeconds: 5 });
        },
      },
      [heartbeat('h1', { containers: 10, max: 10 }), heartbeat('h2', { state: 'draining' })],
    );
    const refused = await full.app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: {} });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error.code).toBe('CAPACITY_EXHAUSTED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(full.fake.callsTo('containerCreate').map((c) => c.opts?.hostId)).toEqual(['h1']);
  });

  it('a workspace on a lost host answers HOST_UNAVAILABLE at once, without asking anyone', async () => {
    const { app, fake, hosts, clock } = await hostsApp({ containerGet: (d) => containerView(d.id) }, [heartbeat('h1'), heartbeat('h2')]);
    clock.t += 3500;
    hosts.heard(heartbeat('h1'));
    for (const [method, url] of [
      ['GET', `/api/containers/${ON_H2}`],
      ['DELETE', `/api/containers/${ON_H2}`],
      ['POST', `/api/containers/${ON_H2}/exec`],
    ] as const) {
      const res = await app.inject({ method, url, headers: JSON_HEADERS, ...(method === 'POST' && { payload: { command: 'true' } }) });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toMatchObject({ code: 'HOST_UNAVAILABLE', retryable: true });
    }
    expect(fake.calls.filter((c) => c.key !== 'containerCreate')).toHaveLength(0);
    // new creates go to the host that is still there
    fake.handlers.containerCreate = (_d, opts) => created(`ws_${opts!.hostId!}_0123456789abcdef`);
    const res = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: {} });
    expect(res.json().id).toBe('ws_h1_0123456789abcdef');
  });

  it('lists ask every live host and merge; a retried create goes back to the same host', async () => {
    const { app, fake } = await hostsApp(
      {
        containerList: (_d, opts) => ({ containers: [containerView(`ws_${opts!.hostId!}_0123456789abcdef`)], count: 1 }),
        containerCreate: (_d, opts) => created(`ws_${opts!.hostId!}_0123456789abcdef`),
      },
      [heartbeat('h1'), heartbeat('h2'), heartbeat('h3')],
    );
    const list = await app.inject({ method: 'GET', url: '/api/containers', headers: AUTH });
    expect(list.json().count).toBe(3);
    const headers = { ...JSON_HEADERS, 'idempotency-key': 'retry-me-12345678' };
    const first = await app.inject({ method: 'POST', url: '/api/containers', headers, payload: {} });
    const again = await app.inject({ method: 'POST', url: '/api/containers', headers, payload: {} });
    expect(again.json().id).toBe(first.json().id);
    const hostsAsked = fake.callsTo('containerCreate').map((c) => c.opts?.hostId);
    expect(hostsAsked[0]).toBe(hostsAsked[1]);
  });

  it('GET /api/hosts lists the hosts heard from; drain and undrain switch a host', async () => {
    const clock = { t: 1_000_000 };
    const hosts = new HostDirectory(3000, () => clock.t);
    hosts.heard(heartbeat('h1'));
    const fake = new FakeBackend({ hostDrain: (d, opts) => heartbeat(opts!.hostId!, { state: d.draining ? 'draining' : 'up' }) });
    const keys = KeyRing.fromToken(TOKEN);
    const app = await buildApp({ backend: hostRoutedBackend(fake, { directory: hosts, policy: 'spread', fallbackHost: 'local' }), keys, hosts });
    const list = await app.inject({ method: 'GET', url: '/api/hosts', headers: AUTH });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ count: 1, hosts: [{ id: 'h1', state: 'up', capacity: { maxContainers: 10 } }] });
    const drained = await app.inject({ method: 'POST', url: '/api/hosts/h1/drain', headers: AUTH });
    expect(drained.json().state).toBe('draining');
    expect(fake.callsTo('hostDrain')[0]!.opts?.hostId).toBe('h1');
    const undrained = await app.inject({ method: 'POST', url: '/api/hosts/h1/undrain', headers: AUTH });
    expect(undrained.json().state).toBe('up');
    const unknown = await app.inject({ method: 'POST', url: '/api/hosts/nope/drain', headers: AUTH });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('HOST_NOT_FOUND');
  });
});
