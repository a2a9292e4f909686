// Follows berth's workspace lifecycle events (subjects berth.evt.>, JetStream stream EVENTS) with
// a durable consumer: stop it, start it again, and it carries on right after the last event it
// acknowledged. Prints one JSON line per event on stdout:
//   {"seq":12,"subject":"berth.evt.container.ws_….claimed","type":"container","event":{…}}
// Delivery is at least once: an event printed just before a crash (its ack not yet sent) comes
// again after the restart; `seq` (the stream sequence) tells the repeat.
//
//   NATS_URL=nats://127.0.0.1:4222 [NATS_USER=… NATS_PASS=…] [BERTH_CONSUMER=my-app] \
//     node --import tsx examples/subscriber.ts
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ContainerEventSchema, EVENTS, SetupStatusSchema } from '@berth/contracts';

const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const durable = process.env.BERTH_CONSUMER ?? 'berth-example-subscriber';
const log = (text: string) => process.stderr.write(`subscriber: ${text}\n`);

const nc = await connect({
  servers,
  name: `berth-subscriber-${durable}`,
  ...(process.env.NATS_USER && { user: process.env.NATS_USER, pass: process.env.NATS_PASS ?? '' }),
});
const jsm = await jetstreamManager(nc);

// pool-manager creates the stream; wait for it rather than creating it with other settings.
for (;;) {
  try {
    await jsm.streams.info(EVENTS.stream);
    break;
  } catch {
    log(`waiting for the ${EVENTS.stream} stream`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

// Adding a durable consumer that exists with the same settings is a no-op: it keeps its position.
await jsm.consumers.add(EVENTS.stream, {
  durable_name: durable,
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  filter_subject: 'berth.evt.>',
  ack_wait: 30_000_000_000,
});
const consumer = await jetstream(nc).consumers.get(EVENTS.stream, durable);
const messages = await consumer.consume({ max_messages: 64 });
log(`following ${EVENTS.stream} as ${durable}`);

const stop = () => { void messages.close(); };
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

function describe(m: JsMsg): { type: string; event: unknown } {
  const json: unknown = m.json();
  if (m.subject.startsWith('berth.evt.container.')) {
    const e = ContainerEventSchema.safeParse(json);
    if (e.success) return { type: 'container', event: e.data };
  } else if (m.subject.startsWith('berth.evt.setup.')) {
    const e = SetupStatusSchema.safeParse(json);
    if (e.success) return { type: 'setup', event: e.data };
  }
  // A newer berth may add events: show them, do not stop on them.
  return { type: 'unknown', event: json };
}

for await (const m of messages) {
  let line: string;
  try {
    line = JSON.stringify({ seq: m.seq, subject: m.subject, ...describe(m) });
  } catch {
    line = JSON.stringify({ seq: m.seq, subject: m.subject, type: 'invalid' });
  }
  process.stdout.write(`${line}\n`);
  // Wait for the server to record the ack, so a restart resumes exactly after this event.
  await m.ackAck();
}
await nc.drain();
log('stopped');
