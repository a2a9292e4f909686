import { WORKLOAD_LABELS } from '@berth/contracts';
import { createServer } from 'node:net';
import type { CreateContainerReply } from '@berth/contracts';
import { request, type NatsConnection } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientNats,
  containersOf,
  docker,
  removeAllOf,
  startInfra,
  startInProcess,
  testHostEnv,
  waitFor,
  type Infra,
  type RunningPoolManager,
} from './harness.js';
import { inspectByBerthId, newRequestId, rejection, waitForWarm } from './helpers.js';

const OWNER = 'claims-owner';
const CONCURRENT = 32;
const SLOW = { timeoutMs: 90_000 };

/** Succeeds when nothing on the host holds the port any more (no docker-proxy, no container). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const hostPortOf = (r: CreateContainerReply) => r.ports['3000']!;

describe('claims: concurrent creates, idempotency, port release, refill', () => {
  let infra: Infra;
  let pm: RunningPoolManager;
  let nc: NatsConnection & { close(): Promise<void> };
  let hostId: string;
  let lo: number;
  let hi: number;
  /** The 32 concurrent claims, with the requestId each was made with. */
  let claims: { requestId: string; reply: CreateContainerReply }[] = [];

  beforeAll(async () => {
    infra = await startInfra();
    // No periodic reconcile during the test: refills must come from the claims themselves.
    pm = await startInProcess(infra, testHostEnv({ RECONCILE_INTERVAL_MS: '3600000' }));
    hostId = pm.config.BERTH_HOST_ID;
    [lo, hi] = pm.config.PORT_RANGE;
    nc = await clientNats(infra, hostId);
    await waitForWarm(nc, 3);
  });

  afterAll(async () => {
    await nc?.close();
    await pm?.stop();
    if (hostId) await removeAllOf(hostId);
    await infra?.dispose();
  });

  it('a claim from a full pool is served warm: the reply says warm: true and names one of the warm containers', async () => {
    await waitForWarm(nc, 3);
    const warmIds = (await pm.store.all()).filter((r) => r.state === 'warm').map((r) => r.id);
    expect(warmIds).toHaveLength(3);

    const reply = await request(nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER });
    expect(reply.warm).toBe(true);
    expect(reply.state).toBe('claimed');
    expect(warmIds).toContain(reply.id);
    const info = await inspectByBerthId(hostId, reply.id);
    expect(info.State.Running).toBe(true);
    // The claim is marked on the engine side too, so a Redis loss never hands it out again.
    await waitFor('claim marker rename', async () => (await inspectByBerthId(hostId, reply.id)).Name.endsWith('-claimed'), 10_000);

    await request(nc, 'containerDelete', { id: reply.id, owner: OWNER });
  });

  it(`${CONCURRENT} concurrent creates get ${CONCURRENT} distinct running containers on distinct host ports inside PORT_RANGE`, async () => {
    await waitForWarm(nc, 3);
    const requestIds = Array.from({ length: CONCURRENT }, newRequestId);
    const replies = await Promise.all(requestIds.map((requestId) => request(nc, 'containerCreate', { requestId, owner: OWNER }, SLOW)));
    claims = replies.map((reply, i) => ({ requestId: requestIds[i]!, reply }));

    const ids = replies.map((r) => r.id);
    expect(new Set(ids).size).toBe(CONCURRENT);
    const ports = replies.map(hostPortOf);
    expect(new Set(ports).size).toBe(CONCURRENT);
    for (const r of replies) {
      expect(r.state).toBe('claimed');
      expect(Object.keys(r.ports)).toEqual(['3000']);
      expect(r.hostPort).toBe(hostPortOf(r));
      expect(hostPortOf(r)).toBeGreaterThanOrEqual(lo);
      expect(hostPortOf(r)).toBeLessThanOrEqual(hi);
    }
    // The pool had 3 warm containers; the rest were cold-created.
    expect(replies.filter((r) => r.warm).length).toBeGreaterThanOrEqual(3);
    expect(replies.filter((r) => !r.warm).length).toBeGreaterThanOrEqual(1);

    // Docker's truth: one container per id, each running and publishing exactly the replied port.
    const listed = (await containersOf(hostId)).filter((c) => ids.includes(c.Labels[WORKLOAD_LABELS.id] ?? ''));
    expect(listed).toHaveLength(CONCURRENT);
    expect(new Set(listed.map((c) => c.Id)).size).toBe(CONCURRENT);
    expect(new Set(listed.map((c) => c.Labels[WORKLOAD_LABELS.id])).size).toBe(CONCURRENT);
    const byId = new Map(listed.map((c) => [c.Labels[WORKLOAD_LABELS.id]!, c.Id]));
    for (const r of replies) {
      const info = await docker.getContainer(byId.get(r.id)!).inspect();
      expect(info.State.Running, `${r.id} running`).toBe(true);
      const bound = info.NetworkSettings.Ports['3000/tcp'];
      expect(bound?.map((b) => b.HostPort)).toEqual([String(hostPortOf(r))]);
      expect(bound?.[0]?.HostIp).toBe('127.0.0.1');
    }

    // Redis' port allocation agrees.
    const hash = await pm.store.ports();
    for (const r of replies) expect(hash[String(hostPortOf(r))]).toBe(r.id);
  });

  it('the drained pool refills to targetSize promptly, without waiting for a reconcile', async () => {
    expect(claims).toHaveLength(CONCURRENT);
    const pool = await waitForWarm(nc, 3, 20_000);
    expect(pool.claimed).toBe(CONCURRENT);
    expect((await pm.store.all()).filter((r) => r.state === 'warm')).toHaveLength(3);
  });

  it('a retried create with the same requestId returns the same container and creates nothing new', async () => {
    expect(claims).toHaveLength(CONCURRENT);
    await waitForWarm(nc, 3);
    const before = new Set((await containersOf(hostId)).map((c) => c.Id));

    const warmOne = claims.find((c) => c.reply.warm)!;
    const coldOne = claims.find((c) => !c.reply.warm)!;
    for (const { requestId, reply } of [warmOne, coldOne]) {
      const again = await request(nc, 'containerCreate', { requestId, owner: OWNER });
      expect(again.id).toBe(reply.id);
      expect(again.ports).toEqual(reply.ports);
    }
    const after = await containersOf(hostId);
    expect(new Set(after.map((c) => c.Id))).toEqual(before);
    expect((await waitForWarm(nc, 3)).claimed).toBe(CONCURRENT);
  });

  it('a create whose container was deleted since starts afresh under the same requestId', async () => {
    const requestId = newRequestId();
    const first = await request(nc, 'containerCreate', { requestId, owner: OWNER }, SLOW);
    await request(nc, 'containerDelete', { id: first.id, owner: OWNER });
    const second = await request(nc, 'containerCreate', { requestId, owner: OWNER }, SLOW);
    expect(second.id).not.toBe(first.id);
    expect(second.state).toBe('claimed');
    await request(nc, 'containerDelete', { id: second.id, owner: OWNER });
    // Let the refills these claims set off finish before the next test counts containers.
    await waitForWarm(nc, 3);
  });

  it('a requestId reused with a different body is IDEMPOTENCY_KEY_REUSED and creates nothing; the same body still gets its container', async () => {
    const requestId = newRequestId();
    const hash = (c: string) => c.repeat(64);
    const first = await request(nc, 'containerCreate', { requestId, owner: OWNER, bodyHash: hash('a') }, SLOW);
    const before = new Set((await containersOf(hostId)).map((c) => c.Id));
    const err = await rejection(request(nc, 'containerCreate', { requestId, owner: OWNER, name: 'other-body', bodyHash: hash('b') }, SLOW));
    expect([err.code, err.retryable]).toEqual(['IDEMPOTENCY_KEY_REUSED', false]);
    // Concurrent repeats: the first body gets its container, any other body is refused.
    const again = await Promise.allSettled(
      [hash('a'), hash('c'), hash('a')].map((bodyHash) => request(nc, 'containerCreate', { requestId, owner: OWNER, bodyHash }, SLOW)),
    );
    expect(again.map((r) => (r.status === 'fulfilled' ? r.value.id : (r.reason as { code: string }).code))).toEqual([
      first.id,
      'IDEMPOTENCY_KEY_REUSED',
      first.id,
    ]);
    expect(new Set((await containersOf(hostId)).map((c) => c.Id))).toEqual(before);
    await request(nc, 'containerDelete', { id: first.id, owner: OWNER });
    await waitForWarm(nc, 3);
  });

  it('concurrent duplicates of one cold create converge on one container', async () => {
    const before = new Set((await containersOf(hostId)).map((c) => c.Id));
    const requestId = newRequestId();
    // Ports other than the pool's force the cold path.
    const replies = await Promise.all([1, 2, 3].map(() => request(nc, 'containerCreate', { requestId, owner: OWNER, ports: [8080] }, SLOW)));
    expect(new Set(replies.map((r) => r.id)).size).toBe(1);
    const made = (await containersOf(hostId)).filter((c) => !before.has(c.Id));
    expect(made.map((c) => c.Labels[WORKLOAD_LABELS.id])).toEqual([replies[0]!.id]);
    expect(replies[0]!.warm).toBe(false);
    claims.push({ requestId, reply: replies[0]! });
  });

  it('delete removes the container and returns its host port to the range', async () => {
    const { reply } = claims.shift()!;
    const port = hostPortOf(reply) ?? reply.ports['8080']!;
    const info = await inspectByBerthId(hostId, reply.id);

    await expect(request(nc, 'containerDelete', { id: reply.id, owner: OWNER })).resolves.toEqual({ id: reply.id, removed: true });

    expect(await pm.store.ports()).not.toHaveProperty(String(port));
    const gone = await docker
      .getContainer(info.Id)
      .inspect()
      .then(
        () => 200,
        (err: { statusCode?: number }) => err.statusCode,
      );
    expect(gone).toBe(404);
    expect((await containersOf(hostId)).filter((c) => c.Labels[WORKLOAD_LABELS.id] === reply.id)).toHaveLength(0);
    expect(await canListen(port)).toBe(true);
    expect((await rejection(request(nc, 'containerGet', { id: reply.id, owner: OWNER }))).code).toBe('CONTAINER_NOT_FOUND');
  });

  it("after deleting every claim the ports hash holds exactly the warm containers' ports and the pool is back at target", async () => {
    await Promise.all(claims.map(({ reply }) => request(nc, 'containerDelete', { id: reply.id, owner: OWNER }, SLOW)));
    const pool = await waitForWarm(nc, 3);
    expect(pool.claimed).toBe(0);

    const records = await pm.store.all();
    expect(records.map((r) => r.state)).toEqual(['warm', 'warm', 'warm']);
    const warmPorts = records.flatMap((r) => Object.values(r.ports).map(String)).sort();
    const hash = await pm.store.ports();
    expect(Object.keys(hash).sort()).toEqual(warmPorts);
    expect(new Set(Object.values(hash))).toEqual(new Set(records.map((r) => r.id)));

    // Docker agrees: only the three warm containers remain, publishing exactly those ports.
    const left = await containersOf(hostId);
    expect(left.map((c) => c.Labels[WORKLOAD_LABELS.id]).sort()).toEqual(records.map((r) => r.id).sort());
    const published = left.flatMap((c) => c.Ports.filter((p) => p.PublicPort).map((p) => String(p.PublicPort)));
    expect([...new Set(published)].sort()).toEqual(warmPorts);
    expect(await pm.store.capacity()).toEqual({ count: 3, memoryMb: 3 * 64 });
  });
});
