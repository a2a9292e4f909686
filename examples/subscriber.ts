// Follows berth's workspace lifecycle events (subjects berth.evt.>, JetStream stream EVENTS) with
// a durable consumer: stop it, start it again, and it carries on right after the last event it
// acknowledged. Prints one JSON line per event on stdout:
//   {"seq":12,"subject":"berth.evt.container.ws_….claimed","type":"container","event":{…,"owner":"alice"}}
// Delivery is at least once: an event printed just before a crash (its ack not yet sent) comes
// again after the restart; `seq` (the stream sequence) tells the repeat.
//
// Self-contained: only the public @nats-io packages, runs with Node 22.18 or later as it is (type stripping),
// from any directory:
//   npm install @nats-io/jetstream @nats-io/transport-node
//   NATS_URL=nats://berth.example:4222 BERTH_SUBSCRIBER=billing NATS_PASS=… [BERTH_CONSUMER=billing] node subscriber.ts
// Credentials: BERTH_SUBSCRIBER is the subscriber's name in berth's NATS configuration (docs/events.md);
// NATS_PASS its password, or NATS_NKEY_SEED the seed of its nkey. BERTH_CONSUMER is one of its
// durables (default: its name). NATS_CA for a server with a private CA (TLS).
import { readFileSync } from 'node:fs';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, nkeyAuthenticator, type ConnectionOptions } from '@nats-io/transport-node';

/** What berth publishes (docs/events.md); fields may be added, so unknown ones are kept. */
interface ContainerEvent {
  id: string;
  kind: 'created' | 'claimed' | 'removed' | 'failed';
  at: string;
  hostId: string;
  pool: string;
  owner?: string;
  reason?: string;
}
interface SetupEvent {
  id: string;
  seq: number;
  phase: string;
  repo: string;
  branch: string;
  at: string;
  owner?: string;
}
interface LlmUsageEvent {
  workspaceId: string;
  owner: string;
  model: string;
  costUsd: number;
  at: string;
}

const STREAM = 'EVENTS';
const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const name = process.env.BERTH_SUBSCRIBER;
const durable = process.env.BERTH_CONSUMER ?? name ?? 'berth-example-subscriber';
const log = (text: string) => process.stderr.write(`subscriber: ${text}\n`);

const auth: Partial<ConnectionOptions> = process.env.NATS_NKEY_SEED
  ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(process.env.NATS_NKEY_SEED)) }
  : name && process.env.NATS_PASS !== undefined
    ? { user: name, pass: process.env.NATS_PASS }
    : {};
const nc = await connect({
  servers,
  name: `berth-subscriber-${durable}`,
  ...auth,
  // berth's NATS lets each user receive only under its own inbox prefix.
  ...(name && { inboxPrefix: `_INBOX.${name}` }),
  ...(process.env.NATS_CA && { tls: { ca: readFileSync(process.env.NATS_CA, 'utf8') } }),
});
const jsm = await jetstreamManager(nc);

// pool-manager creates the stream; wait for it rather than creating it with other settings.
for (;;) {
  try {
    await jsm.streams.info(STREAM);
    break;
  } catch {
    log(`waiting for the ${STREAM} stream`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

// Adding a durable consumer that exists with the same settings is a no-op: it keeps its position.
await jsm.consumers.add(STREAM, {
  durable_name: durable,
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  filter_subject: 'berth.evt.>',
  ack_wait: 30_000_000_000,
});
const consumer = await jetstream(nc).consumers.get(STREAM, durable);
const messages = await consumer.consume({ max_messages: 64 });
log(`following ${STREAM} as ${durable}`);

const stop = () => {
  void messages.close();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(m: JsMsg): { type: string; event: unknown } {
  const json: unknown = m.json();
  const [, , family] = m.subject.split('.');
  if (isObject(json)) {
    if (family === 'container' && typeof json.id === 'string' && typeof json.kind === 'string')
      return { type: 'container', event: json as unknown as ContainerEvent };
    if (family === 'setup' && typeof json.id === 'string' && typeof json.phase === 'string') return { type: 'setup', event: json as unknown as SetupEvent };
    if (family === 'usage' && typeof json.workspaceId === 'string') return { type: 'usage', event: json as unknown as LlmUsageEvent };
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
