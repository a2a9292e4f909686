import { randomBytes } from 'node:crypto';
import { EVENTS } from '@berth/contracts';
import { connectNats, createLogger, drainNats } from '@berth/service-kit';
import { JetStreamEvents } from '@berth/pool-manager';
import { sleep } from '@berth/service-kit/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { createdEventCounts, lostAndDuplicated } from '../../test/support/event-counts.js';
import { NatsCluster } from '../../test/support/nats-cluster.js';

export interface NatsNodeKillOptions {
  /** Events published in all (default 2000). */
  events?: number;
  /** Publish rate (default 400 per second). */
  perSecond?: number;
  /** After this share of the events the node leading EVENTS is SIGKILLed (default 0.3). */
  killAt?: number;
  /** How long to wait for the retried events to be stored (default 100 s, inside EVENTS' duplicate window). */
  settleMs?: number;
  /** A cluster of the caller's (started with `users`); else one of three nodes is started and stopped here. */
  cluster?: NatsCluster;
}

export interface NatsNodeKillResult {
  /** Events published (by pool-manager's publisher) and not in EVENTS afterwards. */
  events_lost_on_nats_node_kill: number;
  /** Events stored more than once (extra copies). */
  events_duplicated_on_nats_node_kill: number;
  events_published: number;
  /** From the kill until the stream took publishes again (a new leader elected). */
  nats_stream_failover_ms: number;
  /** From the killed node's restart until it reported healthy (caught up). */
  nats_node_rejoin_ms: number;
  killedNode: string;
}

/**
 * pool-manager's event publisher (JetStreamEvents, EVENTS with three replicas, as pool-manager
 * user) publishes events at a steady rate on a three-node cluster; the node leading EVENTS is
 * SIGKILLed part-way; then every event is looked for in the stream: the figure is how many are
 * missing. The node is restarted and its catch-up timed.
 */
export async function measureEventsLostOnNatsNodeKill(opts: NatsNodeKillOptions = {}): Promise<NatsNodeKillResult> {
  const total = opts.events ?? 2000;
  const perSecond = opts.perSecond ?? 400;
  const killAt = Math.floor(total * (opts.killAt ?? 0.3));
  const cluster = opts.cluster ?? (await NatsCluster.start({ users: true }));
  const logger = createLogger('nats-node-kill', 'error');
  const nc = await connectNats({ url: cluster.url, name: 'bench-pool-manager', user: 'pool-manager', password: cluster.passwords?.['pool-manager'], logger });
  try {
    const events = await JetStreamEvents.start(nc, 'bench', logger, { replicas: cluster.nodes.length });
    const jsm = await jetstreamManager(nc);
    const leader = (await jsm.streams.info(EVENTS.stream)).cluster?.leader;
    if (!leader) throw new Error('EVENTS has no leader');
    const killed = cluster.indexOf(leader);

    // One prefix per run so a reused cluster's earlier events are not counted.
    const prefix = randomBytes(4).toString('hex');
    const ids = Array.from({ length: total }, (_, i) => `ws_${prefix}${i.toString(16).padStart(8, '0')}`);
    let killedAt = 0;
    const started = Date.now();
    for (let i = 0; i < total; i++) {
      if (i === killAt) {
        killedAt = Date.now();
        await cluster.kill(killed);
      }
      events.publish(ids[i]!, 'created', 'bench');
      const due = started + ((i + 1) * 1000) / perSecond;
      if (due > Date.now()) await sleep(due - Date.now());
    }

    // Failover: until EVENTS has a leader again (polled; after the publishing, so at least that long).
    let failoverMs = -1;
    const deadline = killedAt + (opts.settleMs ?? 100_000);
    while (Date.now() < deadline) {
      const info = await jsm.streams.info(EVENTS.stream).catch(() => undefined);
      if (info?.cluster?.leader && info.cluster.leader !== leader) {
        failoverMs = Date.now() - killedAt;
        break;
      }
      await sleep(100);
    }

    let counts = new Map<string, number>();
    while (Date.now() < deadline) {
      counts = await createdEventCounts(nc, `ws_${prefix}`).catch(() => counts);
      if (counts.size >= total) break;
      await sleep(500);
    }
    const { lost, duplicated } = lostAndDuplicated(ids, counts);

    const restartAt = Date.now();
    await cluster.restart(killed, 60_000);
    const rejoinMs = Date.now() - restartAt;
    return {
      events_lost_on_nats_node_kill: lost,
      events_duplicated_on_nats_node_kill: duplicated,
      events_published: total,
      nats_stream_failover_ms: failoverMs,
      nats_node_rejoin_ms: rejoinMs,
      killedNode: leader,
    };
  } finally {
    await drainNats(nc).catch(() => undefined);
    if (!opts.cluster) await cluster.stop();
  }
}
