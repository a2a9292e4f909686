import { randomBytes, createHmac, timingSafeEqual } from 'node:crypto';
import { BerthError, CALLBACK_HEADERS, EVENTS, httpStatusOf, LEGACY_CALLBACK_HEADERS, type SetupStatus } from '@berth/contracts';
import { connectNats, createLogger, drainNats, request, type NatsConnection } from '@berth/service-kit';
import { startNatsServer, startRedisServer, type ServerProcess, type ServiceProcess } from '@berth/service-kit/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CallbackReceiver, webhookFor } from '../../../test/support/callback-receiver.js';
import { findSecret, redisEntries, streamMessages } from '../../../test/support/secret-scan.js';
import { JetStreamEvents } from '../../pool-manager/src/events.js';
import { CONSUMER_NAME } from '../src/callbacks/consumer.js';
import { localServer, newWorkspaceId, readBody, startEgress, waitFor } from './helpers.js';

// Egress as a real process, setup statuses published into a real EVENTS stream (created the way
// pool-manager creates it), a local receiver allowed by CALLBACK_ALLOW_CIDRS=127.0.0.1/32.
const logger = createLogger('test', 'warn');
let nats: ServerProcess & { url: string };
let redis: ServerProcess & { url: string };
let nc: NatsConnection;
let egress: ServiceProcess;
let receiver: Awaited<ReturnType<typeof localServer>>;
const outputs: string[] = [];
const SECRET = `cb-secret-${randomBytes(12).toString('hex')}`;

interface Received {
  id: string;
  seq: number;
  eventId: string;
  attempt: number;
  status: number;
  signatureOk: boolean;
  legacySignatureOk: boolean;
}
const received: Received[] = [];
/** Per workspace: the HTTP status the receiver answers for (seq, attempt); default 204. */
const answers = new Map<string, (seq: number, attempt: number) => number>();

const env = () => ({
  NATS_URL: nats.url,
  REDIS_URL: redis.url,
  EGRESS_PROXY_PORT: '0',
  CALLBACK_ALLOW_CIDRS: '127.0.0.1/32',
  CALLBACK_RETRY_BASE_MS: '50',
  CALLBACK_RETRY_MAX_MS: '200',
  CALLBACK_MAX_ATTEMPTS: '4',
  CALLBACK_TIMEOUT_MS: '2000',
  CALLBACK_ACK_WAIT_MS: '2000',
  CALLBACK_CONCURRENCY: '4',
});

/** The deprecated x-berth-signature, checked as the previous docs/callbacks.md showed. */
function verifyLegacy(secret: string, ts: string, body: string, sig: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`);
  return sig.length === expected.length && timingSafeEqual(Buffer.from(sig), expected);
}

/** Verified with the `standardwebhooks` package: webhook-id, webhook-timestamp, webhook-signature. */
function verifies(secret: string, body: string, headers: Record<string, string | string[] | undefined>): boolean {
  try {
    webhookFor(secret).verify(body, Object.fromEntries(Object.values(CALLBACK_HEADERS).map((h) => [h, String(headers[h] ?? '')])));
    return true;
  } catch {
    return false;
  }
}

const js = () => jetstream(nc);
function statusOf(id: string, seq: number): SetupStatus {
  const phases = ['queued', 'cloning', 'installing', 'starting', 'ready'] as const;
  const now = new Date().toISOString();
  return { id, seq, phase: phases[Math.min(seq - 1, phases.length - 1)]!, repo: 'acme/app', branch: 'main', at: now, startedAt: now, durations: {} };
}
async function publish(id: string, seqs: number[]): Promise<void> {
  for (const seq of seqs) {
    await js().publish(EVENTS.setup.subject(id), JSON.stringify(statusOf(id, seq)), { msgID: EVENTS.setup.msgId(id, seq) });
  }
}
const register = (id: string, url = `http://127.0.0.1:${receiver.port}/hook`, secret = SECRET) => request(nc, 'callbackRegister', { id, url, secret });
const delivered = (id: string) => received.filter((r) => r.id === id && r.status < 300);

async function restartEgress(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  await egress.kill(signal);
  outputs.push(egress.allOutput);
  egress = await startEgress(env());
}

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNatsServer(), startRedisServer()]);
  nc = await connectNats({ url: nats.url, name: 'test', logger });
  receiver = await localServer((req, res) => {
    void readBody(req).then((buf) => {
      const body = buf.toString();
      const s = JSON.parse(body) as SetupStatus;
      const attempt = Number(req.headers[LEGACY_CALLBACK_HEADERS.attempt]);
      const status = answers.get(s.id)?.(s.seq, attempt) ?? 204;
      const eventId = String(req.headers[CALLBACK_HEADERS.id]);
      received.push({
        id: s.id,
        seq: s.seq,
        attempt,
        status,
        eventId,
        signatureOk: verifies(SECRET, body, req.headers),
        legacySignatureOk:
          eventId === req.headers[LEGACY_CALLBACK_HEADERS.eventId] &&
          verifyLegacy(SECRET, String(req.headers[LEGACY_CALLBACK_HEADERS.timestamp]), body, String(req.headers[LEGACY_CALLBACK_HEADERS.signature])),
      });
      res.writeHead(status).end();
    });
  });
  // Egress first: it waits for pool-manager's stream and must not create it.
  egress = await startEgress(env());
  await waitFor('egress waiting for EVENTS', () => egress.allOutput.includes('waiting for the EVENTS stream'));
  const jsm = await jetstreamManager(nc);
  await expect(jsm.streams.info(EVENTS.stream)).rejects.toThrow(/stream not found/);
  await JetStreamEvents.start(nc, 'test', logger);
  await waitFor('the egress consumer', () =>
    jsm.consumers.info(EVENTS.stream, CONSUMER_NAME).then(
      () => true,
      () => false,
    ),
  );
});

afterAll(async () => {
  await egress?.kill('SIGTERM');
  await receiver?.close();
  if (nc) await drainNats(nc);
  await Promise.all([nats?.dispose(), redis?.dispose()]);
});

describe('callback registration', () => {
  test('private, loopback outside the allowed range, internal and credentialed URLs are refused with CALLBACK_URL_REFUSED', async () => {
    const id = newWorkspaceId();
    for (const [url, why] of [
      ['http://10.0.0.1/hook', /private address/],
      ['http://127.0.0.2:8080/hook', /loopback/],
      ['http://[::1]:8080/', /loopback/],
      ['http://169.254.169.254/latest/meta-data', /metadata/],
      [`http://localhost:${receiver.port}/`, /not fully qualified/],
      [`http://user:${SECRET}@127.0.0.1:${receiver.port}/`, /credentials/],
      ['file:///etc/passwd', /scheme/],
    ] as const) {
      const err = await register(id, url).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BerthError);
      expect((err as BerthError).code).toBe('CALLBACK_URL_REFUSED');
      expect(httpStatusOf((err as BerthError).code)).toBe(400);
      expect((err as BerthError).message).toMatch(why);
      expect((err as BerthError).message).not.toContain(SECRET);
    }
    await expect(register(id)).resolves.toEqual({ registered: true });
  });
});

describe('callback delivery', () => {
  test('statuses arrive in order, Standard Webhooks signed (and legacy-signed) with the secret, with webhook-ids <id>:<seq>', async () => {
    const id = newWorkspaceId();
    await register(id);
    await publish(id, [1, 2, 3, 4, 5]);
    await waitFor('5 deliveries', () => delivered(id).length >= 5);
    const got = delivered(id);
    expect(got.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(got.map((r) => r.eventId)).toEqual([1, 2, 3, 4, 5].map((s) => `${id}:${s}`));
    expect(got.every((r) => r.signatureOk && r.legacySignatureOk && r.attempt === 1)).toBe(true);
  });

  test.each([
    ['a whsec_ secret (its base64-decoded bytes are the key)', `whsec_${randomBytes(32).toString('base64')}`],
    ["Artie's plain secret123 (its UTF-8 bytes are the key)", 'secret123'],
    ['a non-ASCII plain secret (UTF-8, not UTF-16 code units)', 'clé-secrète-ü'],
  ])('%s: deliveries verify with the standardwebhooks package', async (_name, secret) => {
    const hook = await CallbackReceiver.start(secret);
    try {
      const id = newWorkspaceId();
      await register(id, hook.url, secret);
      await publish(id, [1, 2]);
      await waitFor('2 deliveries', () => hook.received.length >= 2);
      expect(hook.received.map((r) => [r.outcome, r.headers[CALLBACK_HEADERS.id]])).toEqual([
        ['accepted', `${id}:1`],
        ['accepted', `${id}:2`],
      ]);
      expect(String(hook.received[0]!.headers[CALLBACK_HEADERS.signature])).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    } finally {
      await hook.close();
    }
  });

  test('a captured delivery replayed is refused: the same webhook-id is a duplicate, a new id or timestamp breaks the signature', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const hook = await CallbackReceiver.start(secret);
    try {
      const id = newWorkspaceId();
      await register(id, hook.url, secret);
      await publish(id, [1]);
      await waitFor('the delivery', () => hook.received.length >= 1);
      const captured = hook.received[0]!;
      expect(captured.outcome).toBe('accepted');
      const replay = async (changed: Record<string, string>) => {
        const headers = { ...captured.headers, ...changed } as Record<string, string>;
        delete headers['content-length'];
        delete headers.host;
        delete headers.connection;
        const res = await fetch(hook.url, { method: 'POST', headers, body: captured.body });
        return [res.status, hook.received.at(-1)!.outcome];
      };
      expect(await replay({})).toEqual([200, 'duplicate']);
      // The legacy x-berth-signature covers neither: with it, a fresh event id passed as a new status.
      const fresh = `${id}:99`;
      expect(await replay({ [CALLBACK_HEADERS.id]: fresh, [LEGACY_CALLBACK_HEADERS.eventId]: fresh })).toEqual([401, 'invalid']);
      const later = String(Number(captured.headers[CALLBACK_HEADERS.timestamp]) + 1);
      expect(await replay({ [CALLBACK_HEADERS.timestamp]: later })).toEqual([401, 'invalid']);
      expect(hook.accepted()).toHaveLength(1);
    } finally {
      await hook.close();
    }
  });

  test('receiver 500s are retried without reordering, and do not hold back other workspaces', async () => {
    const slow = newWorkspaceId();
    const fast = newWorkspaceId();
    await Promise.all([register(slow), register(fast)]);
    // slow's seq 2 fails until fast has all of its statuses, and at least twice
    answers.set(slow, (seq, attempt) => (seq === 2 && (attempt < 3 || delivered(fast).length < 4) ? 500 : 204));
    await publish(slow, [1, 2, 3]);
    await publish(fast, [1, 2, 3, 4]);
    await waitFor('both workspaces', () => delivered(slow).length >= 3 && delivered(fast).length >= 4);
    expect(delivered(slow).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(delivered(fast).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    const tries = received.filter((r) => r.id === slow && r.seq === 2);
    expect(tries.map((r) => r.attempt)).toEqual(tries.map((_, i) => i + 1));
    expect(tries.length).toBeGreaterThanOrEqual(3);
    expect(new Set(tries.map((r) => r.eventId))).toEqual(new Set([`${slow}:2`]));
  });

  test('a status that keeps failing is given up after CALLBACK_MAX_ATTEMPTS, then the next one goes', async () => {
    const id = newWorkspaceId();
    await register(id);
    answers.set(id, (seq) => (seq === 1 ? 503 : 204));
    await publish(id, [1, 2]);
    await waitFor('seq 2', () => delivered(id).length >= 1);
    expect(received.filter((r) => r.id === id).map((r) => [r.seq, r.attempt])).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
      [1, 4],
      [2, 1],
    ]);
    expect(egress.allOutput).toMatch(new RegExp(`"id":"${id}","seq":1,[^\\n]*"callback given up"`));
  });

  test('statuses of a workspace without registration are acked and skipped', async () => {
    const id = newWorkspaceId();
    await publish(id, [1, 2]);
    const jsm = await jetstreamManager(nc);
    await waitFor('nothing pending', async () => {
      const info = await jsm.consumers.info(EVENTS.stream, CONSUMER_NAME);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
    expect(received.some((r) => r.id === id)).toBe(false);
  });

  test('egress killed mid-way and restarted (twice): nothing lost, order kept, repeats only as the same event id', async () => {
    const id = newWorkspaceId();
    await register(id);
    const N = 30;
    const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    // Each status fails once then succeeds, so kills land in retries, in backoffs and between statuses.
    answers.set(id, (_seq, attempt) => (attempt === 1 ? 500 : 204));
    await publish(id, seqs(1, 15));
    await waitFor('some deliveries', () => delivered(id).length >= 5);
    await restartEgress('SIGKILL');
    // Newer statuses arrive while the killed run's are still pending: they must wait for those.
    await publish(id, seqs(16, N));
    await waitFor('more deliveries', () => new Set(delivered(id).map((r) => r.seq)).size >= 20, 30_000);
    await restartEgress('SIGTERM');
    await waitFor(`${N} distinct deliveries`, () => new Set(delivered(id).map((r) => r.seq)).size >= N, 60_000);
    const got = delivered(id).map((r) => r.seq);
    expect([...new Set(got)]).toEqual(seqs(1, N));
    expect(got.every((s, i) => i === 0 || s >= got[i - 1]!)).toBe(true); // a repeat is the one just delivered, never an older one
    expect(delivered(id).every((r) => r.eventId === `${id}:${r.seq}` && r.signatureOk && r.legacySignatureOk)).toBe(true);
  }, 120_000);

  test('the consumer is the durable egress-callbacks on setup statuses; a new ack wait applies after a restart', async () => {
    const jsm = await jetstreamManager(nc);
    const before = await jsm.consumers.info(EVENTS.stream, CONSUMER_NAME);
    expect(before.config).toMatchObject({ durable_name: CONSUMER_NAME, filter_subject: EVENTS.setup.pattern, ack_policy: 'explicit', ack_wait: 2_000 * 1e6 });
    await egress.kill('SIGTERM');
    outputs.push(egress.allOutput);
    egress = await startEgress({ ...env(), CALLBACK_ACK_WAIT_MS: '3000' });
    await waitFor('the new ack wait', async () => (await jsm.consumers.info(EVENTS.stream, CONSUMER_NAME)).config.ack_wait === 3_000 * 1e6);
    const id = newWorkspaceId();
    await register(id);
    await publish(id, [1]);
    await waitFor('a delivery after the update', () => delivered(id).length === 1);
  });

  test('the consumer deleted, and the whole stream deleted and recreated: delivery carries on', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.delete(EVENTS.stream, CONSUMER_NAME);
    const a = newWorkspaceId();
    await register(a);
    await publish(a, [1, 2]);
    await waitFor('deliveries after the consumer was deleted', () => delivered(a).length >= 2, 30_000);
    await jsm.streams.delete(EVENTS.stream);
    await JetStreamEvents.start(nc, 'test', logger);
    const b = newWorkspaceId();
    await register(b);
    await publish(b, [1, 2, 3]);
    await waitFor('deliveries after the stream was recreated', () => delivered(b).length >= 3, 30_000);
    expect(delivered(a).map((r) => r.seq)).toEqual([1, 2]);
    expect(delivered(b).map((r) => r.seq)).toEqual([1, 2, 3]);
  }, 60_000);

  test('the callback secret is nowhere: egress output, Redis values, JetStream', async () => {
    outputs.push(egress.allOutput);
    const keys = (await redisEntries(redis.url)).filter(([where]) => where.startsWith('redis berth:cb:'));
    expect(keys.length).toBeGreaterThan(0);
    const hits = findSecret(
      [...outputs.map((o, i) => [`egress run ${i}`, o] as [string, string]), ...(await redisEntries(redis.url)), ...(await streamMessages(nc, EVENTS.stream))],
      SECRET,
    );
    expect(hits).toEqual([]);
    // and the stored URL is sealed too
    expect(keys.every(([, v]) => !v.includes('127.0.0.1') && v.includes('v1.'))).toBe(true);
  });
});
