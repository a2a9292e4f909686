import { randomBytes } from 'node:crypto';
import { BerthError, type PoolView, type ReplyOf, type RequestOf, WORKLOAD_LABELS } from '@berth/contracts';
import { request, type NatsConnection } from '@berth/service-kit';
import { expect } from 'vitest';
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

/** A fresh idempotency key, as a real caller would send. */
export const newRequestId = () => `req-${randomBytes(8).toString('hex')}`;

/** Resolves with the BerthError a promise rejects with; fails the test if it resolves or throws anything else. */
export async function rejection(p: Promise<unknown>): Promise<BerthError> {
  const outcome = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.v)}`);
  expect(outcome.e).toBeInstanceOf(BerthError);
  return outcome.e as BerthError;
}

/** The pool as a caller sees it over NATS. */
export async function poolView(nc: NatsConnection, name = 'default'): Promise<PoolView> {
  const { pools } = await request(nc, 'poolList', {});
  const pool = pools.find((p) => p.name === name);
  if (!pool) throw new Error(`no pool ${name} in poolList`);
  return pool;
}

/** Waits until the pool holds `warm` warm containers and none being created. */
export async function waitForWarm(nc: NatsConnection, warm: number, timeoutMs = 60_000, name = 'default'): Promise<PoolView> {
  return waitFor(
    `pool ${name} to hold ${warm} warm`,
    async () => {
      const p = await poolView(nc, name);
      return p.warm === warm && p.creating === 0 && p;
    },
    timeoutMs,
  );
}

/** Docker's view of one berth workspace, found by its `berth.id` label (not by anything Redis says). */
export async function dockerByBerthId(hostId: string, id: string) {
  const matches = (await containersOf(hostId)).filter((c) => c.Labels[WORKLOAD_LABELS.id] === id);
  return matches;
}

export async function inspectByBerthId(hostId: string, id: string) {
  const [match, ...rest] = await dockerByBerthId(hostId, id);
  expect(rest, `more than one container labelled ${id}`).toHaveLength(0);
  if (!match) throw new Error(`no Docker container labelled berth.id=${id}`);
  return docker.getContainer(match.Id).inspect();
}

export interface World {
  infra: Infra;
  pm: RunningPoolManager;
  nc: NatsConnection & { close(): Promise<void> };
  hostId: string;
  /** Stops pool-manager, removes every container of this host, stops nats-server and redis-server. */
  dispose(): Promise<void>;
}

/** Real nats-server, redis-server and an in-process pool-manager with its own host id and ports. */
export async function startWorld(env: Record<string, string> = {}): Promise<World> {
  const infra = await startInfra();
  let pm: RunningPoolManager | undefined;
  let nc: (NatsConnection & { close(): Promise<void> }) | undefined;
  const hostEnv = testHostEnv(env);
  // nats-server and redis-server go whatever failed before (say, no Docker engine to clean up in).
  const dispose = async () => {
    try {
      await nc?.close();
      await pm?.stop();
      await removeAllOf(hostEnv.BERTH_HOST_ID!);
    } finally {
      await infra.dispose();
    }
  };
  try {
    pm = await startInProcess(infra, hostEnv);
    nc = await clientNats(infra, hostEnv.BERTH_HOST_ID!);
  } catch (err) {
    await dispose();
    throw err;
  }
  return { infra, pm, nc, hostId: pm.config.BERTH_HOST_ID, dispose };
}

export type CreateArgs = Omit<RequestOf<'containerCreate'>, 'requestId' | 'owner'>;

/**
 * How long a test waits for a create: a cold one is a `docker run`, which a loaded CI machine can
 * stretch well past the RPC's default 10 s. Tests that measure speed belong in bench/.
 */
export const CREATE_TIMEOUT_MS = 30_000;

/** A create for `owner` with a fresh requestId, given the time a loaded machine needs. */
export function create(w: World, owner: string, args: CreateArgs = {}): Promise<ReplyOf<'containerCreate'>> {
  return request(w.nc, 'containerCreate', { requestId: newRequestId(), owner, ...args }, { timeoutMs: CREATE_TIMEOUT_MS });
}

/**
 * Asserts that a create is refused with `code`, quickly, and that Docker gained no container and
 * Redis no reservation for it.
 */
export async function refused(w: World, args: CreateArgs, code: BerthError['code'], owner: string): Promise<BerthError> {
  const before = new Set((await containersOf(w.hostId)).map((c) => c.Id));
  const capacityBefore = await w.pm.store.capacity();
  const portsBefore = await w.pm.store.ports();
  const requestId = newRequestId();
  const started = Date.now();
  const err = await rejection(request(w.nc, 'containerCreate', { requestId, owner, ...args }));
  expect(err.code).toBe(code);
  expect(Date.now() - started).toBeLessThan(1_000);
  // No record for the request; any container that appeared meanwhile is a pool fill, not made for it.
  expect((await w.pm.store.all()).filter((r) => r.requestId === `${owner}:${requestId}`)).toHaveLength(0);
  const appeared = (await containersOf(w.hostId)).filter((c) => !before.has(c.Id));
  for (const c of appeared) expect((await w.pm.store.get(c.Labels[WORKLOAD_LABELS.id] ?? ''))?.requestId).toBe('');
  if (code !== 'CAPACITY_EXHAUSTED' && code !== 'PORTS_EXHAUSTED') return err;
  // Nothing was reserved for it (a refill could only have been refused for the same reason).
  expect(await w.pm.store.capacity()).toEqual(capacityBefore);
  expect(await w.pm.store.ports()).toEqual(portsBefore);
  return err;
}
