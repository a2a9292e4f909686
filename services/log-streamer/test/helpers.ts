import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { LOGS, LogBatchSchema, type LogLine } from '@berth/contracts';
import type { NatsConnection } from '@berth/service-kit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { waitFor } from '@berth/service-kit/testing';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const IMAGE = process.env.WORKSPACE_IMAGE ?? 'berth/workspace:latest';

export const newHostId = () => `l-${randomBytes(4).toString('hex')}`;
export const newWorkspaceId = () => `ws_${randomBytes(8).toString('hex')}`;

/** A berth-labelled container of `hostId` running `script` under sh, as pool-manager would label it. */
export async function runLabelled(hostId: string, script: string, opts: { start?: boolean; tty?: boolean } = {}): Promise<{ id: string; ref: string }> {
  const id = newWorkspaceId();
  const c = await docker.createContainer({
    Image: IMAGE,
    Cmd: ['sh', '-c', script],
    Tty: opts.tty ?? false,
    Labels: { 'berth.managed': 'true', 'berth.host': hostId, 'berth.id': id },
    HostConfig: { NetworkMode: 'none', AutoRemove: false },
  });
  if (opts.start !== false) await c.start();
  return { id, ref: c.id };
}

export async function removeHost(hostId: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`berth.host=${hostId}`] } });
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
}

export interface StoredLine extends LogLine {
  seq: number;
  /** Index in its message (a batch of pieces). */
  index: number;
  stream: string;
}

/** Every stored piece of a container's output, in stream order (the batches flattened). */
export async function readAll(nc: NatsConnection, workspaceId: string): Promise<StoredLine[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(LOGS.stream, { filter_subjects: LOGS.filter(workspaceId) });
  const out: StoredLine[] = [];
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
    let got = 0;
    let pending = 0;
    for await (const m of batch) {
      got += 1;
      pending = m.info.pending;
      const stream = m.subject.split('.').at(-1) ?? '';
      LogBatchSchema.parse(m.json()).lines.forEach((line, index) => out.push({ ...line, seq: m.seq, index, stream }));
      if (pending === 0) break;
    }
    if (got === 0 || pending === 0) break;
  }
  await consumer.delete().catch(() => undefined);
  return out;
}

export { waitFor };

/** Resolves once a log-streamer has created the LOGS stream. */
export async function waitForLogsStream(nc: NatsConnection, timeoutMs = 20_000): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await waitFor(
    'the LOGS stream',
    () =>
      jsm.streams.info(LOGS.stream).then(
        () => true,
        () => false,
      ),
    timeoutMs,
  );
}
