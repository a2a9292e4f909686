import { LOGS, type LogAppendRequest } from '@berth/contracts';
import { createLogger, connectNats, drainNats, type NatsConnection } from '@berth/service-kit';
import { startNatsServer, type ServerProcess } from '@berth/service-kit/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureLogsStream, JetStreamLogStore } from '../src/log-store.js';
import { SetupAppender } from '../src/setup-appender.js';
import { newWorkspaceId, readAll } from './helpers.js';

// berth.logs.append against a real nats-server: a setup's lines become the container's `setup` stream.
let nats: ServerProcess & { url: string };
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectNats({ url: nats.url, name: 'test', logger: createLogger('test', 'warn') });
  await ensureLogsStream(await jetstreamManager(nc), { maxAgeSeconds: 3600, maxBytes: 64 * 1024 * 1024 });
});

afterAll(async () => {
  if (nc) await drainNats(nc);
  await nats?.dispose();
});

const appender = async (now?: () => number) => new SetupAppender(jetstream(nc), await jetstreamManager(nc), now);
const req = (id: string, lines: string[], phase: LogAppendRequest['lines'][number]['phase'] = 'installing'): LogAppendRequest => ({
  id,
  lines: lines.map((line) => ({ line, phase })),
});

describe('SetupAppender', () => {
  test('lines are stored in order on berth.logs.<id>.setup with their phase, counts and (ts, n) that only grow', async () => {
    const id = newWorkspaceId();
    // A clock that goes back must not reorder what is stored.
    const times = [Date.parse('2026-01-01T00:00:02Z'), Date.parse('2026-01-01T00:00:01Z'), Date.parse('2026-01-01T00:00:03Z')];
    const a = await appender(() => times.shift() ?? Date.now());
    expect(await a.append(req(id, ['[setup] cloning acme/app@main'], 'cloning'))).toEqual({ stored: 1 });
    await a.append(req(id, ['one', 'two']));
    await a.append(req(id, ['three'], 'ready'));
    const stored = await readAll(nc, id);
    expect(stored.map((l) => [l.stream, l.line, l.phase])).toEqual([
      ['setup', '[setup] cloning acme/app@main', 'cloning'],
      ['setup', 'one', 'installing'],
      ['setup', 'two', 'installing'],
      ['setup', 'three', 'ready'],
    ]);
    expect(stored.map((l) => `${l.ts}/${l.n}`)).toEqual([
      '2026-01-01T00:00:02.000000000Z/0',
      '2026-01-01T00:00:02.000000000Z/1',
      '2026-01-01T00:00:02.000000000Z/2',
      '2026-01-01T00:00:03.000000000Z/0',
    ]);
    const last = await (await jetstreamManager(nc)).streams.getMessage(LOGS.stream, { last_by_subj: LOGS.subject(id, 'setup') });
    expect(last?.json()).toMatchObject({ before: 3 });
  }, 30_000);

  test('two log-streamers appending to one container at once never store the same position twice', async () => {
    const id = newWorkspaceId();
    const [a, b] = [await appender(), await appender()];
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).append(req(id, [`line ${i}`]))));
    const stored = await readAll(nc, id);
    expect(stored.map((l) => l.line).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i}`).sort());
    const positions = stored.map((l) => `${l.ts}/${String(l.n).padStart(6, '0')}`);
    expect(positions).toEqual([...positions].sort());
    expect(new Set(positions).size).toBe(20);
    const batches = [...new Set(stored.map((l) => l.seq))].length;
    const last = await (await jetstreamManager(nc)).streams.getMessage(LOGS.stream, { last_by_subj: LOGS.subject(id, 'setup') });
    expect(last?.json()).toMatchObject({ before: batches - 1 });
  }, 30_000);

  test('the container output follower resumes from stdout and stderr only, whatever the setup stream holds', async () => {
    const id = newWorkspaceId();
    await (await appender()).append(req(id, ['setup line']));
    const store = await JetStreamLogStore.start(nc, { maxAgeSeconds: 3600, maxBytes: 64 * 1024 * 1024 }, 64);
    expect(await store.lastPositions(id)).toEqual({});
  }, 30_000);
});
