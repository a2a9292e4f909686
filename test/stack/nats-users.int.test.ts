import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONSUMERS, EVENTS, JETSTREAM_ACCESS, LOGS, SUBJECTS, natsPasswordVar, natsPermissions, natsServices, type ServiceName } from '@berth/contracts';
import { connectNats, createLogger, type NatsConnection } from '@berth/service-kit';
import { ServerProcess, natsServerBin, probeNatsPermissions, repoRoot } from '@berth/service-kit/testing';
import { JetStreamLogReader } from '@berth/gateway';
import { JetStreamLogStore } from '@berth/log-streamer';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesAny } from './subject-match.js';

// Every generated NATS user (docker/nats/authorization.conf) on a real nats-server: a negative
// matrix over all services and subjects, then the JetStream calls each service really makes.
const passwords = Object.fromEntries(natsServices().map((s) => [s, `s${randomBytes(12).toString('hex')}`])) as Record<ServiceName, string>;
const logger = createLogger('nats-users-test', 'silent');
let nats: ServerProcess;
let url: string;
const open: NatsConnection[] = [];

const as = async (service: ServiceName) => {
  const nc = await connectNats({ url, name: `test-${service}`, user: service, password: passwords[service], logger });
  open.push(nc);
  return nc;
};

beforeAll(async () => {
  Object.assign(process.env, Object.fromEntries(natsServices().map((s) => [natsPasswordVar(s), passwords[s]])));
  const auth = readFileSync(join(repoRoot(), 'docker', 'nats', 'authorization.conf'), 'utf8');
  nats = await ServerProcess.start(natsServerBin(), (port, dir) => {
    writeFileSync(join(dir, 'nats.conf'), `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${dir}" }\n${auth}`);
    return ['-c', join(dir, 'nats.conf')];
  });
  url = `nats://127.0.0.1:${nats.port}`;
});
afterAll(async () => {
  for (const nc of open) await nc.close().catch(() => undefined);
  await nats?.dispose();
});

/** A concrete subject for each allowed pattern (wildcards filled in), so every permission is probed. */
const concrete = (pattern: string) => pattern.replaceAll('*', 'probe').replace(/>$/, 'probe.x');
const ws = 'ws_0123456789abcdef';

describe('negative matrix: every service NATS user on a real nats-server', () => {
  const everyAllowed = natsServices()
    .flatMap((s) => [...natsPermissions(s).publish, ...natsPermissions(s).subscribe])
    .map(concrete);
  const streams = JETSTREAM_ACCESS.map((a) => a.stream);
  // What any service might try: every subject some user may use, and what nobody may.
  const publishUniverse = [
    ...new Set([
      ...everyAllowed,
      ...Object.values(SUBJECTS).map((e) => e.subject),
      EVENTS.setup.subject(ws),
      LOGS.subject(ws, 'stdout'),
      'berth.other.thing',
      ...streams.flatMap((s) => [
        `$JS.API.STREAM.DELETE.${s}`,
        `$JS.API.STREAM.PURGE.${s}`,
        `$JS.API.CONSUMER.CREATE.${s}.rogue`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${s}.rogue`,
        `$JS.API.CONSUMER.MSG.NEXT.${s}.rogue`,
        `$JS.ACK.${s}.rogue.1.1.1.1.1`,
      ]),
      '$JS.API.STREAM.CREATE.ROGUE',
      '$JS.API.STREAM.LIST',
      '$SYS.REQ.SERVER.PING',
    ]),
  ];
  const subscribeUniverse = [
    ...new Set([
      ...Object.values(SUBJECTS).map((e) => e.subject),
      'berth.evt.>',
      'berth.logs.>',
      '>',
      '$JS.API.>',
      ...natsServices().map((o) => `_INBOX.${o}.probe`),
    ]),
  ];

  it.each(natsServices())('%s is refused every subject outside its list, and only those', async (service) => {
    const p = natsPermissions(service);
    const r = await probeNatsPermissions({ url, user: service, password: passwords[service], publish: publishUniverse, subscribe: subscribeUniverse });
    expect(r.connected).toBe(true);
    const refusedPublish = publishUniverse.filter((x) => !matchesAny(x, p.publish));
    const refusedSubscribe = subscribeUniverse.filter((x) => !p.subscribe.includes(x) && !matchesAny(x, p.subscribe));
    expect(r.refusedPublish.sort()).toEqual(refusedPublish.sort());
    expect(r.refusedSubscribe.sort()).toEqual(refusedSubscribe.sort());
    // Nobody may delete or purge a stream, list streams, make a stream of its own or subscribe to everything.
    for (const s of streams) expect(r.refusedPublish).toEqual(expect.arrayContaining([`$JS.API.STREAM.DELETE.${s}`, `$JS.API.STREAM.PURGE.${s}`]));
    expect(r.refusedPublish).toEqual(expect.arrayContaining(['$JS.API.STREAM.CREATE.ROGUE', '$JS.API.STREAM.LIST', 'berth.other.thing']));
    expect(r.refusedSubscribe).toEqual(expect.arrayContaining(['>', '$JS.API.>', 'berth.evt.>', 'berth.logs.>']));
  });

  it('refuses a wrong password', async () => {
    expect((await probeNatsPermissions({ url, user: 'log-streamer', password: 'swrong', publish: [], subscribe: [] })).connected).toBe(false);
  });
});

describe('the JetStream calls each service makes, with its own user', () => {
  it('log-streamer creates LOGS and stores lines; the gateway reads them back with ordered consumers', async () => {
    const store = await JetStreamLogStore.start(await as('log-streamer'), { maxAgeSeconds: 3600, maxBytes: 1024 * 1024 }, 16);
    const pub = store.publisher(ws);
    await pub.publish(['one', 'two', 'three'].map((line, n) => ({ stream: 'stdout' as const, ts: '2026-01-01T00:00:00.000000000Z', n, line })));
    await pub.flush();
    expect((await store.lastPositions(ws)).stdout).toMatchObject({ n: 2 });

    const reader = await JetStreamLogReader.create(await as('gateway'));
    const lines: string[] = [];
    for await (const e of await reader.read(ws, { kind: 'tail', lines: 2 }, { follow: false, signal: new AbortController().signal })) lines.push(e.line.line);
    expect(lines).toEqual(['two', 'three']);
    // The gateway may read LOGS but not write into it.
    const gw = await probeNatsPermissions({ url, user: 'gateway', password: passwords.gateway, publish: [LOGS.subject(ws, 'stdout')], subscribe: [] });
    expect(gw.refusedPublish).toEqual([LOGS.subject(ws, 'stdout')]);
  });

  it('pool-manager publishes a setup status into EVENTS; egress pulls it with its durable and acknowledges', async () => {
    const pm = await as('pool-manager');
    const pmJsm = await jetstreamManager(pm);
    await pmJsm.streams.add({ name: EVENTS.stream, subjects: [...EVENTS.subjects] });
    await jetstream(pm).publish(EVENTS.setup.subject(ws), JSON.stringify({ probe: 1 }));

    const eg = await as('egress');
    const { stream, durable, filter } = CONSUMERS.egressCallbacks;
    const jsm = await jetstreamManager(eg);
    await jsm.consumers.add(stream, { durable_name: durable, filter_subject: filter, ack_policy: AckPolicy.Explicit });
    const consumer = await jetstream(eg).consumers.get(stream, durable);
    const msg = await consumer.next({ expires: 2_000 });
    expect(msg?.subject).toBe(EVENTS.setup.subject(ws));
    expect(await msg?.ackAck()).toBe(true);
    expect((await consumer.info()).num_ack_pending).toBe(0);
    // Any other durable, or reading the stream's messages directly, is refused.
    await expect(jsm.consumers.add(stream, { durable_name: 'rogue', filter_subject: '>', ack_policy: AckPolicy.None })).rejects.toThrow();
    await expect(jsm.streams.getMessage(stream, { last_by_subj: EVENTS.setup.subject(ws) })).rejects.toThrow();
  });
});
