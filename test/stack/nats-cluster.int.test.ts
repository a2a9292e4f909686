import { randomBytes } from 'node:crypto';
import { BUILDS, EVENTS, LOGS } from '@berth/contracts';
import { connectNats, createLogger, drainNats, type NatsConnection } from '@berth/service-kit';
import { ServiceProcess, waitFor } from '@berth/service-kit/testing';
import { ensureBuildsStream } from '@berth/image-builder';
import { JetStreamEvents } from '@berth/pool-manager';
import { jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newHostId, readAll, removeHost, runLabelled } from '../../services/log-streamer/test/helpers.js';
import { createdEventCounts, lostAndDuplicated } from '../support/event-counts.js';
import { NatsCluster } from '../support/nats-cluster.js';

// A three-node NATS cluster with the generated users, streams with three replicas, and one node
// SIGKILLed while pool-manager's event publisher and a real log-streamer process publish under
// load: nothing published is missing or stored twice, the services reconnect on their own, the
// node rejoins and catches up.

const logger = createLogger('nats-cluster-test', 'error');
const hostId = newHostId();
let cluster: NatsCluster;
let streamer: ServiceProcess;
const conns: NatsConnection[] = [];

async function as(user: 'pool-manager' | 'gateway' | 'image-builder'): Promise<NatsConnection> {
  const nc = await connectNats({ url: cluster.url, name: `test-${user}`, user, password: cluster.passwords![user], logger });
  conns.push(nc);
  return nc;
}

const streamInfo = async (nc: NatsConnection, stream: string): Promise<StreamInfo> => (await jetstreamManager(nc, { checkAPI: false })).streams.info(stream);

beforeAll(async () => {
  cluster = await NatsCluster.start({ users: true });
  streamer = new ServiceProcess('log-streamer', {
    NATS_URL: cluster.url,
    NATS_USER: 'log-streamer',
    NATS_PASSWORD: cluster.passwords!['log-streamer'],
    JETSTREAM_REPLICAS: '3',
    BERTH_HOST_ID: hostId,
    LOG_LEVEL: 'warn',
    LOG_STREAMER_HEALTH_PORT: '0',
    LOGS_RESCAN_INTERVAL_MS: '500',
  });
  streamer.start();
  const gateway = await as('gateway');
  await waitFor(
    'the LOGS stream',
    () =>
      streamInfo(gateway, LOGS.stream).then(
        () => true,
        () => false,
      ),
    30_000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; log-streamer: ${streamer.output.slice(-2000)}`);
  });
});

afterAll(async () => {
  await streamer?.kill('SIGTERM');
  await removeHost(hostId);
  await Promise.all(conns.map((nc) => drainNats(nc).catch(() => undefined)));
  await cluster?.stop();
});

describe('NATS cluster', () => {
  test('BUILDS made with one replica is scaled to three in place, keeping its messages', async () => {
    const jsm = await jetstreamManager(await as('image-builder'));
    await ensureBuildsStream(jsm, 3600, 1);
    const pm = await as('pool-manager');
    const { jetstream } = await import('@nats-io/jetstream');
    await jetstream(pm).publish(BUILDS.subject('h1'), new TextEncoder().encode('{}'), { msgID: 'kept' });
    await ensureBuildsStream(jsm, 3600, 3);
    const info = await jsm.streams.info(BUILDS.stream);
    expect(info.config.num_replicas).toBe(3);
    expect(info.state.messages).toBe(1);
  });

  test('a node SIGKILLed under load loses no event or log line, stores none twice; the services reconnect and the node rejoins', async () => {
    const pm = await as('pool-manager');
    const gateway = await as('gateway');
    const events = await JetStreamEvents.start(pm, hostId, logger, { replicas: 3 });
    const logs = await streamInfo(gateway, LOGS.stream);
    expect(logs.config.num_replicas).toBe(3);
    expect((await streamInfo(pm, EVENTS.stream)).config.num_replicas).toBe(3);
    const streamerPid = streamer.pid;

    // The node log-streamer is connected to: what it wrote there last is gone with it, while what it
    // writes after its reconnect reaches another node. (When that node also leads LOGS, as in about
    // a third of the runs, LOGS elects a new leader meanwhile.)
    const victim = cluster.indexOf(await waitFor('log-streamer connected', () => cluster.nodeOfClient(`log-streamer-${hostId}`), 10_000));

    // ~6 s of output: 6000 lines, 50 every 50 ms.
    const lineCount = 6000;
    const { id: wsLogs } = await runLabelled(
      hostId,
      `i=0; while [ $i -lt ${lineCount} ]; do echo "line-$i"; i=$((i+1)); [ $((i % 50)) -ne 0 ] || sleep 0.05; done`,
    );
    // ~6 s of events, 250 a second.
    const prefix = randomBytes(4).toString('hex');
    const ids = Array.from({ length: 1500 }, (_, i) => `ws_${prefix}${i.toString(16).padStart(8, '0')}`);
    const publishing = (async () => {
      for (const [i, id] of ids.entries()) {
        events.publish(id, 'created', 'load');
        if (i % 25 === 24) await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await waitFor('output flowing into LOGS', async () => (await readAll(gateway, wsLogs)).length > 200, 20_000, 100);
    await cluster.kill(victim);
    await publishing;

    await waitFor('every event stored', async () => (await createdEventCounts(pm, `ws_${prefix}`).catch(() => new Map())).size >= ids.length, 60_000, 500);
    expect(lostAndDuplicated(ids, await createdEventCounts(pm, `ws_${prefix}`))).toEqual({ lost: 0, duplicated: 0 });

    const lines = await waitFor(
      `${lineCount} lines`,
      async () => {
        const l = await readAll(gateway, wsLogs).catch(() => []);
        return l.length >= lineCount && l;
      },
      60_000,
      500,
    ).catch(async (err: unknown) => {
      const l = await readAll(gateway, wsLogs).catch(() => []);
      throw new Error(`${String(err)}: ${l.length} stored; log-streamer: ${streamer.output.slice(-2000)}`);
    });
    expect(lines.map((l) => l.line)).toEqual(Array.from({ length: lineCount }, (_, i) => `line-${i}`));

    // log-streamer reconnected by itself: the same process, and a new container's output arrives.
    expect(streamer.pid).toBe(streamerPid);
    const { id: wsAfter } = await runLabelled(hostId, 'echo after-the-kill');
    await waitFor('output after the kill', async () => (await readAll(gateway, wsAfter).catch(() => [])).some((l) => l.line === 'after-the-kill'), 30_000, 200);

    // The node rejoins and catches up: every stream has its three replicas current again.
    await cluster.restart(victim, 60_000);
    for (const stream of [EVENTS.stream, LOGS.stream]) {
      await waitFor(
        `${stream} with three current replicas`,
        async () => {
          const info = await streamInfo(stream === LOGS.stream ? gateway : pm, stream).catch(() => undefined);
          const replicas = info?.cluster?.replicas ?? [];
          return replicas.length === 2 && replicas.every((r) => r.current && !r.offline);
        },
        30_000,
        200,
      );
    }
  }, 150_000);
});
