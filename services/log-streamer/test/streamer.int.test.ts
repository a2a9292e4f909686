import { createLogger, connectNats, drainNats, type NatsConnection } from '@berth/service-kit';
import { ServiceProcess, startNatsServer, type ServerProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newHostId, readAll, removeHost, runLabelled, waitFor, waitForLogsStream } from './helpers.js';

// log-streamer as a real process against real nats-server and Docker.
let nats: ServerProcess & { url: string };
let nc: NatsConnection;
const hostId = newHostId();
let streamer: ServiceProcess;

const env = () => ({
  NATS_URL: nats.url,
  BERTH_HOST_ID: hostId,
  LOG_LEVEL: 'warn',
  LOG_STREAMER_HEALTH_PORT: '0',
  LOGS_RESCAN_INTERVAL_MS: '500',
  LOGS_MAX_LINE_BYTES: '100',
});

async function storedCount(id: string): Promise<number> {
  return (await readAll(nc, id)).length;
}

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectNats({ url: nats.url, name: 'test', logger: createLogger('test', 'warn') });
  streamer = new ServiceProcess('log-streamer', env());
  streamer.start();
  await waitForLogsStream(nc);
});

afterAll(async () => {
  await streamer?.kill('SIGTERM');
  await removeHost(hostId);
  if (nc) await drainNats(nc);
  await nats?.dispose();
});

describe('log-streamer', () => {
  test('100k lines written at full speed arrive complete and in order', async () => {
    const { id } = await runLabelled(hostId, 'seq 1 100000; sleep infinity');
    await waitFor('100000 lines', async () => (await storedCount(id)) >= 100_000, 60_000, 1000);
    const lines = await readAll(nc, id);
    expect(lines.length).toBe(100_000);
    expect(lines.every((l, i) => l.line === String(i + 1) && l.stream === 'stdout')).toBe(true);
  }, 90_000);

  test('stderr, long lines split and flagged, a container that exited before it was seen', async () => {
    const long = 'x'.repeat(250);
    const { id } = await runLabelled(hostId, `echo out; echo err >&2; echo ${long}; printf 'no newline'`);
    let seen: unknown[] = [];
    const lines = await waitFor(
      'all pieces',
      async () => {
        const l = await readAll(nc, id);
        seen = l;
        return l.length >= 6 && l;
      },
      60_000,
    ).catch((err: unknown) => {
      // Seen once in a loaded full-suite run and never alone: keep what is needed to find out why.
      throw new Error(`${String(err)}; stored: ${JSON.stringify(seen)}; log-streamer: ${streamer.output.slice(-3000)}`);
    });
    expect(lines.map((l) => [l.stream, l.line, l.cont ?? false]).sort()).toEqual(
      [
        ['stderr', 'err', false],
        ['stdout', 'no newline', true], // output that ended without a newline
        ['stdout', 'out', false],
        ['stdout', 'x'.repeat(100), true],
        ['stdout', 'x'.repeat(100), true],
        ['stdout', 'x'.repeat(50), false],
      ].sort(),
    );
  }, 90_000);

  test('SIGKILLed mid-stream and restarted, it loses nothing and duplicates nothing', async () => {
    const { id } = await runLabelled(
      hostId,
      'i=1; while [ $i -le 30000 ]; do echo $i; if [ $((i % 500)) -eq 0 ]; then sleep 0.05; fi; i=$((i+1)); done; sleep infinity',
    );
    for (let round = 0; round < 2; round++) {
      const before = await waitFor(
        'some lines',
        async () => {
          const n = await storedCount(id);
          return n > 2000 * (round + 1) && n;
        },
        30_000,
      );
      await streamer.kill('SIGKILL');
      expect(before).toBeLessThan(30_000);
      streamer = new ServiceProcess('log-streamer', env());
      streamer.start();
    }
    await waitFor('30000 lines', async () => (await storedCount(id)) >= 30_000, 60_000, 500);
    await new Promise((r) => setTimeout(r, 1000));
    const lines = await readAll(nc, id);
    expect(lines.length).toBe(30_000);
    expect(lines.every((l, i) => l.line === String(i + 1))).toBe(true);
  }, 90_000);
});
