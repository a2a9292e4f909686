import { randomBytes } from 'node:crypto';
import {
  CONSUMERS,
  EVENTS,
  JETSTREAM_ACCESS,
  LOGS,
  SUBJECTS,
  natsPermissions,
  natsServices,
  subscriberPermissions,
  type NatsSubscriber,
} from '@berth/contracts';
import { connectNats, createLogger, serve, type NatsConnection } from '@berth/service-kit';
import { probeNatsPermissions } from '@berth/service-kit/testing';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nkeyAuthenticator, nkeys } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SUBSCRIBER_HASH, TEST_SUBSCRIBER_PASSWORD, startNatsWithUsers, type AuthNats } from '../support/nats-auth.js';
import { matchesAny } from './subject-match.js';

// Subscriber users (other systems following berth) on a real nats-server with the generated
// configuration: each reads EVENTS, LOGS and berth.evt.> through its own durables, and is
// refused everything else, including the consumers of services and of other subscribers.
const auditKeys = nkeys.createUser();
const billing: NatsSubscriber = { name: 'billing', password: TEST_SUBSCRIBER_HASH };
const audit: NatsSubscriber = { name: 'audit', nkey: auditKeys.getPublicKey(), durables: ['audit', 'audit-logs'] };
const logger = createLogger('nats-subscribers-test', 'silent');
let nats: AuthNats;
const open: { close(): Promise<void> }[] = [];

const asService = async (service: 'pool-manager' | 'log-streamer' | 'gateway'): Promise<NatsConnection> => {
  const nc = await connectNats({ url: nats.url, name: `test-${service}`, user: service, password: nats.passwords[service], logger });
  open.push(nc);
  return nc;
};
const asBilling = async () => {
  const nc = await connect({ servers: nats.url, user: 'billing', pass: TEST_SUBSCRIBER_PASSWORD, inboxPrefix: '_INBOX.billing' });
  open.push(nc);
  return nc;
};

beforeAll(async () => {
  nats = await startNatsWithUsers([billing, audit]);
  // The services make their streams, as in a running berth.
  await jetstreamManager(await asService('pool-manager')).then((m) => m.streams.add({ name: EVENTS.stream, subjects: [...EVENTS.subjects] }));
  await jetstreamManager(await asService('log-streamer')).then((m) => m.streams.add({ name: LOGS.stream, subjects: [...LOGS.subjects] }));
});
afterAll(async () => {
  for (const nc of open) await nc.close().catch(() => undefined);
  await nats?.server.dispose();
});

const concrete = (pattern: string) => pattern.replaceAll('*', 'probe').replace(/>$/, 'probe.x');
const ws = 'ws_0123456789abcdef';

describe('a subscriber user', () => {
  it("is refused every subject outside its own list: requests, stream admin, service and other subscribers' consumers", async () => {
    const streams = JETSTREAM_ACCESS.map((a) => a.stream);
    const others = [
      ...natsServices().flatMap((s) => [...natsPermissions(s).publish, ...natsPermissions(s).subscribe]),
      ...subscriberPermissions(audit).publish,
    ].map(concrete);
    const publishUniverse = [
      ...new Set([
        ...others,
        ...subscriberPermissions(billing).publish.map(concrete),
        ...Object.values(SUBJECTS).map((e) => e.subject),
        EVENTS.container.subject(ws, 'claimed'),
        EVENTS.setup.subject(ws),
        LOGS.subject(ws, 'stdout'),
        ...streams.flatMap((s) => [
          `$JS.API.STREAM.DELETE.${s}`,
          `$JS.API.STREAM.PURGE.${s}`,
          `$JS.API.STREAM.UPDATE.${s}`,
          `$JS.API.STREAM.MSG.GET.${s}`,
          `$JS.API.CONSUMER.CREATE.${s}`,
          `$JS.API.CONSUMER.LIST.${s}`,
          `$JS.API.CONSUMER.DELETE.${s}.${CONSUMERS.egressCallbacks.durable}`,
        ]),
        `$JS.API.CONSUMER.MSG.NEXT.${EVENTS.stream}.${CONSUMERS.egressCallbacks.durable}`,
        `$JS.ACK.${EVENTS.stream}.${CONSUMERS.egressCallbacks.durable}.1.1.1.1.1`,
        '$JS.API.STREAM.CREATE.ROGUE',
        '$JS.API.STREAM.LIST',
        '$SYS.REQ.SERVER.PING',
        'berth.stream.ctl.probe',
      ]),
    ];
    const subscribeUniverse = [
      ...new Set([
        'berth.evt.>',
        'berth.logs.>',
        '>',
        '$JS.API.>',
        '_INBOX.>',
        ...Object.values(SUBJECTS).map((e) => e.subject),
        ...[...natsServices(), 'audit'].map((o) => `_INBOX.${o}.probe`),
        '_INBOX.billing.probe',
        'berth.stream.ctl.probe',
      ]),
    ];
    const p = subscriberPermissions(billing);
    const r = await probeNatsPermissions({
      url: nats.url,
      user: 'billing',
      password: TEST_SUBSCRIBER_PASSWORD,
      publish: publishUniverse,
      subscribe: subscribeUniverse,
    });
    expect(r.connected).toBe(true);
    expect(r.refusedPublish.sort()).toEqual(publishUniverse.filter((x) => !matchesAny(x, p.publish)).sort());
    expect(r.refusedSubscribe.sort()).toEqual(subscribeUniverse.filter((x) => !p.subscribe.includes(x) && !matchesAny(x, p.subscribe)).sort());
    // What the issue named: the JetStream API info is allowed, egress's consumer is not.
    expect(r.refusedPublish).not.toContain('$JS.API.INFO');
    expect(r.refusedPublish).toEqual(
      expect.arrayContaining([
        `$JS.API.CONSUMER.MSG.NEXT.${EVENTS.stream}.${CONSUMERS.egressCallbacks.durable}`,
        `$JS.API.CONSUMER.MSG.NEXT.${EVENTS.stream}.audit`,
        SUBJECTS.containerDelete.subject,
      ]),
    );
    expect(r.refusedSubscribe).toEqual(expect.arrayContaining(['>', '_INBOX.>', '_INBOX.gateway.probe', '_INBOX.audit.probe']));
  });

  it('refuses a wrong password and an unknown nkey', async () => {
    expect((await probeNatsPermissions({ url: nats.url, user: 'billing', password: 'wrong', publish: [], subscribe: [] })).connected).toBe(false);
    await expect(connect({ servers: nats.url, authenticator: nkeyAuthenticator(nkeys.createUser().getSeed()), reconnect: false })).rejects.toThrow();
  });

  it("reads EVENTS and LOGS through its own durables and may not create or read anyone else's", async () => {
    const pm = jetstream(await asService('pool-manager'));
    await pm.publish(EVENTS.container.subject(ws, 'claimed'), JSON.stringify({ id: ws, kind: 'claimed', owner: 'alice' }));
    await jetstream(await asService('log-streamer')).publish(LOGS.subject(ws, 'stdout'), JSON.stringify({ before: 0, lines: [] }));
    const nc = await connect({ servers: nats.url, authenticator: nkeyAuthenticator(auditKeys.getSeed()), inboxPrefix: '_INBOX.audit' });
    open.push(nc);
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(EVENTS.stream)).config.name).toBe(EVENTS.stream);
    for (const [stream, durable] of [
      [EVENTS.stream, 'audit'],
      [LOGS.stream, 'audit-logs'],
    ] as const) {
      await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
      const m = await (await jetstream(nc).consumers.get(stream, durable)).next({ expires: 5_000 });
      expect(m?.subject.startsWith(stream === EVENTS.stream ? 'berth.evt.' : 'berth.logs.')).toBe(true);
      expect(await m!.ackAck()).toBe(true);
    }
    await jsm.consumers.delete(LOGS.stream, 'audit-logs');
    for (const durable of [CONSUMERS.egressCallbacks.durable, 'billing', 'rogue']) {
      await expect(jsm.consumers.add(EVENTS.stream, { durable_name: durable, ack_policy: AckPolicy.Explicit }), durable).rejects.toThrow(/permission/i);
      await expect(jsm.consumers.info(EVENTS.stream, durable), durable).rejects.toThrow(/permission/i);
    }
    await expect(jsm.streams.purge(EVENTS.stream)).rejects.toThrow(/permission/i);
    await expect(jsm.streams.delete(LOGS.stream)).rejects.toThrow(/permission/i);
  });

  it("cannot turn events into requests by aiming a consumer's deliveries at a request subject", async () => {
    // NATS does not check a push consumer's deliver subject (nor a pull's reply subject) against
    // the creator's permissions: JetStream delivers there itself. An event carries {id, owner},
    // which is what berth.container.delete asks for; the services answer only requests with an inbox.
    const served: string[] = [];
    const pm = await asService('pool-manager');
    serve(
      pm,
      'containerDelete',
      async (req) => {
        served.push(req.id);
        return { id: req.id, removed: true };
      },
      logger,
    );
    await pm.flush();
    const victim = `ws_${randomBytes(8).toString('hex')}`;
    await jetstream(await asService('pool-manager')).publish(
      EVENTS.container.subject(victim, 'claimed'),
      JSON.stringify({ id: victim, kind: 'claimed', at: new Date().toISOString(), hostId: 'h', pool: 'default', owner: 'alice' }),
    );
    const nc = await asBilling();
    const jsm = await jetstreamManager(nc);
    // Pushed to the service's queue group,
    await jsm.consumers.add(EVENTS.stream, {
      durable_name: 'billing',
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      deliver_subject: SUBJECTS.containerDelete.subject,
      deliver_group: SUBJECTS.containerDelete.servedBy,
    });
    await new Promise((r) => setTimeout(r, 1_000));
    await jsm.consumers.delete(EVENTS.stream, 'billing');
    // and pulled with the request subject as the reply.
    await jsm.consumers.add(EVENTS.stream, { durable_name: 'billing', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${EVENTS.stream}.billing`, JSON.stringify({ batch: 10, expires: 500_000_000 }), {
      reply: SUBJECTS.containerDelete.subject,
    });
    await nc.flush();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(served).toEqual([]);
    await jsm.consumers.delete(EVENTS.stream, 'billing');
  });
});
