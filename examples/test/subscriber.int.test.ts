import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { EVENTS, type ContainerEventKind, type SetupStatus } from '@berth/contracts';
import { createLogger } from '@berth/service-kit';
import { startNatsServer, type ServerProcess } from '@berth/service-kit/testing';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { JetStreamEvents } from '../../services/pool-manager/src/events.js';

// examples/subscriber.ts as a real process against a real nats-server: events are published by
// pool-manager's own publisher while the subscriber runs, while it is killed, and after it
// restarts; every event is printed, and the restart resumes instead of starting over.
const SCRIPT = fileURLToPath(new URL('../subscriber.ts', import.meta.url));
let nats: ServerProcess & { url: string };
let nc: NatsConnection;
let events: JetStreamEvents;
beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  events = await JetStreamEvents.start(nc, 'b-example', createLogger('example-test', 'silent'));
});
afterAll(async () => {
  await nc?.close();
  await nats?.dispose();
});

interface Line { seq: number; subject: string; type: string; event: { id: string; kind?: string; phase?: string } }

class Subscriber {
  readonly lines: Line[] = [];
  readonly child: ChildProcess;
  stderr = '';
  constructor(consumer: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
      env: { PATH: process.env.PATH ?? '', NATS_URL: nats.url, BERTH_CONSUMER: consumer },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const p of parts) this.lines.push(JSON.parse(p) as Line);
    });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
  }

  async until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`subscriber never ${what}; stderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    return new Promise((resolve) => { this.child.once('exit', () => resolve()); this.child.kill(signal); });
  }
}

const id = () => `ws_${randomBytes(8).toString('hex')}`;
const KINDS: ContainerEventKind[] = ['created', 'warm', 'claimed', 'removed'];

function publishBatch(n: number, published: string[]): void {
  for (let i = 0; i < n; i++) {
    const ws = id();
    const kind = KINDS[i % KINDS.length]!;
    events.publish(ws, kind, 'default');
    published.push(`${ws}.${kind}`);
  }
}

async function publishSetup(published: string[]): Promise<void> {
  const ws = id();
  const at = new Date().toISOString();
  const status: SetupStatus = { id: ws, seq: 1, phase: 'cloning', repo: 'acme/app', branch: 'main', at, startedAt: at, durations: {} };
  await jetstream(nc).publish(EVENTS.setup.subject(ws), JSON.stringify(status), { msgID: EVENTS.setup.msgId(ws, 1) });
  published.push(`${ws}.setup`);
}

const keyOf = (l: Line) => `${l.event.id}.${l.type === 'setup' ? 'setup' : l.event.kind}`;

test('a durable subscriber misses no event across a kill and a restart', async () => {
  const consumer = `example-${randomBytes(3).toString('hex')}`;
  const published: string[] = [];
  const first = new Subscriber(consumer);
  await first.until(() => first.stderr.includes('following'), 'started');
  publishBatch(12, published);
  await publishSetup(published);
  await first.until(() => first.lines.length >= 13, 'printed the first 13 events');
  await first.kill('SIGKILL');

  // While it is down.
  publishBatch(10, published);
  await publishSetup(published);

  const second = new Subscriber(consumer);
  await second.until(() => second.stderr.includes('following'), 'restarted');
  publishBatch(6, published);
  const all = () => new Set([...first.lines, ...second.lines].map(keyOf));
  await second.until(() => published.every((k) => all().has(k)), `printed all ${published.length} events`);
  await new Promise((r) => setTimeout(r, 300));
  await second.kill('SIGTERM');

  // Nothing missed, nothing unknown, setup statuses parsed as such.
  expect([...all()].sort()).toEqual([...published].sort());
  expect([...first.lines, ...second.lines].filter((l) => l.type === 'unknown' || l.type === 'invalid')).toEqual([]);
  expect([...first.lines, ...second.lines].filter((l) => l.type === 'setup').map((l) => l.event.phase)).toEqual(['cloning', 'cloning']);
  // The restart resumed after what the first run acknowledged instead of starting over: it
  // repeats at most the one event printed just before the kill.
  const firstSeqs = new Set(first.lines.map((l) => l.seq));
  expect(second.lines.filter((l) => firstSeqs.has(l.seq)).length).toBeLessThanOrEqual(1);
  expect(Math.min(...second.lines.map((l) => l.seq))).toBeGreaterThanOrEqual(Math.max(...first.lines.map((l) => l.seq)));
  expect(second.stderr).toContain('stopped');
}, 60_000);
