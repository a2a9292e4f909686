import { createLogger } from '@berth/service-kit';
import type { ImageBuildRequest } from '@berth/contracts';
import type { JsMsg } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import type { BuildOutcome } from '../src/builder.js';
import { createBuilderMetrics } from '../src/metrics.js';
import { BuildWorker, type BuildRunner } from '../src/worker.js';

const logger = createLogger('test', 'silent');
const sha = (c: string) => c.repeat(40);
const req = (repo: string, s: string): ImageBuildRequest => ({ id: 'ws_0123456789abcdef', repo, sha: s, hostId: 'h1' });

/** A JetStream message that records how it was settled. */
function fakeMsg(body: unknown, deliveryCount = 1) {
  const settled: string[] = [];
  const msg = {
    subject: 'berth.build.image.h1',
    info: { deliveryCount },
    json: () => body,
    ack: () => settled.push('ack'),
    nak: (ms?: number) => settled.push(`nak ${ms ?? 0}`),
    working: () => undefined,
  };
  return { msg: msg as unknown as JsMsg, settled };
}

/** A consumer handing out queued messages, then nothing. */
function fakeConsumer(msgs: JsMsg[]) {
  return { next: async () => msgs.shift() ?? new Promise<null>((r) => setTimeout(() => r(null), 5)) };
}

const settledAll = (n: () => number, want: number) =>
  new Promise<void>((resolve) => {
    const check = () => (n() >= want ? resolve() : setTimeout(check, 2));
    check();
  });

describe('BuildWorker', () => {
  it('retries a failed build with a growing delay and acks it after the last attempt', async () => {
    const failing: BuildRunner = {
      build: async () => {
        throw new Error('docker down');
      },
    };
    const first = fakeMsg(req('acme/web', sha('a')), 1);
    const last = fakeMsg(req('acme/api', sha('b')), 3);
    const metrics = createBuilderMetrics();
    const w = new BuildWorker(
      fakeConsumer([first.msg, last.msg]),
      failing,
      metrics,
      { concurrency: 2, maxAttempts: 3, retryDelayMs: 100, ackWaitMs: 60_000, afterBuild: async () => undefined },
      logger,
    );
    w.start();
    await settledAll(() => first.settled.length + last.settled.length, 2);
    await w.stop();
    expect(first.settled).toEqual(['nak 100']);
    expect(last.settled).toEqual(['ack']);
    const counts = await metrics.builds.get();
    expect(Object.fromEntries(counts.values.map((v) => [v.labels.outcome, v.value]))).toEqual({ retry: 1, failed: 1 });
  });

  it('one repo builds one request at a time; a newer waiting request replaces an older one', async () => {
    const order: string[] = [];
    let release: (() => void) | undefined;
    const runner: BuildRunner = {
      build: async (r) => {
        order.push(`start ${r.sha[0]}`);
        if (r.sha === sha('1'))
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        order.push(`end ${r.sha[0]}`);
        return 'built' satisfies BuildOutcome;
      },
    };
    const m = ['1', '2', '3'].map((c) => fakeMsg(req('Acme/Web', sha(c))));
    m.push(fakeMsg({ nonsense: true }));
    let built = 0;
    const w = new BuildWorker(
      fakeConsumer(m.map((x) => x.msg)),
      runner,
      createBuilderMetrics(),
      {
        concurrency: 4,
        maxAttempts: 3,
        retryDelayMs: 0,
        ackWaitMs: 60_000,
        afterBuild: async () => {
          built += 1;
        },
      },
      logger,
    );
    w.start();
    await settledAll(() => m[1]!.settled.length + m[3]!.settled.length, 2);
    expect(order).toEqual(['start 1']);
    release?.();
    await settledAll(() => m[0]!.settled.length + m[2]!.settled.length, 2);
    await w.stop();
    expect(order).toEqual(['start 1', 'end 1', 'start 3', 'end 3']);
    expect(m.map((x) => x.settled)).toEqual([['ack'], ['ack'], ['ack'], ['ack']]);
    expect(built).toBe(2);
  });
});
