// events_lost_on_nats_node_kill (issue 17): pool-manager's event publisher on a three-node NATS
// cluster (EVENTS with three replicas) while the node leading EVENTS is SIGKILLed mid-load.
// Writes bench/results/scale.json's NATS figures (bench:scale adds the host figures beside them).
import { measureEventsLostOnNatsNodeKill } from './lib/nats-node-kill.js';
import { report } from './lib/report.js';

const events = Number(process.env.BENCH_EVENTS ?? 2000);
const r = await measureEventsLostOnNatsNodeKill({ events });
report(
  'scale-nats',
  {
    events_lost_on_nats_node_kill: r.events_lost_on_nats_node_kill,
    events_duplicated_on_nats_node_kill: r.events_duplicated_on_nats_node_kill,
    nats_stream_failover_ms: r.nats_stream_failover_ms,
    nats_node_rejoin_ms: r.nats_node_rejoin_ms,
  },
  [
    {
      measure: `events lost when the EVENTS leader (of 3 nodes) is SIGKILLed mid-load (${r.events_published} events)`,
      value: String(r.events_lost_on_nats_node_kill),
      target: '0',
    },
    { measure: 'events stored twice', value: String(r.events_duplicated_on_nats_node_kill), target: '0' },
    { measure: 'EVENTS without a leader after the kill (ms)', value: String(r.nats_stream_failover_ms) },
    { measure: 'killed node restarted until healthy (ms)', value: String(r.nats_node_rejoin_ms) },
  ],
  r,
  { mergeInto: 'scale' },
);
