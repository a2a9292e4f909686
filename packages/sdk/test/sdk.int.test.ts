import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LocalStack } from '../../../test/support/local-stack.js';
import { Berth, BerthAbortError, BerthApiError, BerthTimeoutError } from '../src/index.js';
import { startSmallStack } from './stack.js';

// Every SDK method against the real gateway, pool-manager, NATS, Redis and Docker.
let stack: LocalStack;
let berth: Berth;
beforeAll(async () => {
  stack = await startSmallStack();
  berth = new Berth({ url: stack.url, apiKey: stack.token, timeoutMs: 30_000 });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

describe('@berth/sdk against the real stack', () => {
  test('health and pools', async () => {
    expect(await berth.health()).toMatchObject({ status: 'ok' });
    const pools = await berth.pools.list();
    expect(pools.map((p) => [p.name, p.memoryMb, p.targetSize])).toEqual([['default', 64, 2]]);
  });

  test('create, get, list, exec, refresh, delete', async () => {
    const c = await berth.containers.create({ name: 'sdk-one' });
    expect(c).toMatchObject({ name: 'sdk-one', pool: 'default', state: 'claimed' });
    expect(c.hostPort).toBe(c.ports['3000']);

    const r = await c.exec('echo out; echo err >&2; exit 3', { timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false });
    expect((await c.exec(['printf', '%s|', 'a b', '$HOME'])).stdout).toBe('a b|$HOME|');
    const slow = await c.exec('sleep 5', { timeoutMs: 300 });
    expect(slow.timedOut).toBe(true);

    expect((await berth.containers.get(c.id)).name).toBe('sdk-one');
    expect((await berth.containers.list()).map((x) => x.id)).toContain(c.id);
    expect((await c.refresh()).lastActiveAt).not.toBeNull();

    await c.delete();
    const gone = await berth.containers.get(c.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(BerthApiError);
    expect(gone).toMatchObject({ code: 'CONTAINER_NOT_FOUND', status: 404, retryable: false });
  });

  test('the same Idempotency-Key gives the same container; containers.delete by id', async () => {
    const key = `sdk-idem-${Date.now()}`;
    const a = await berth.containers.create({ idempotencyKey: key });
    const b = await berth.containers.create({ idempotencyKey: key });
    expect(b.id).toBe(a.id);
    await berth.containers.delete(a.id);
    await expect(berth.containers.delete(a.id)).rejects.toMatchObject({ code: 'CONTAINER_NOT_FOUND' });
  });

  test('volumes: a create names one, it is listed and kept, deleted only once no container mounts it', async () => {
    const c = await berth.containers.create({ volumeName: 'sdk-data' });
    expect(c.volumeName).toBe('sdk-data');
    expect((await berth.volumes.list()).volumes).toEqual([expect.objectContaining({ name: 'sdk-data', inUse: true })]);
    await expect(berth.volumes.delete('sdk-data')).rejects.toMatchObject({ code: 'VOLUME_IN_USE', status: 409, retryable: false });
    await expect(berth.containers.create({ volumeName: 'berth-npm-cache' })).rejects.toMatchObject({ code: 'VOLUME_NOT_ALLOWED', status: 403 });
    await c.delete();
    await berth.volumes.delete('sdk-data');
    expect((await berth.volumes.list()).count).toBe(0);
    await expect(berth.volumes.delete('sdk-data')).rejects.toMatchObject({ code: 'VOLUME_NOT_FOUND', status: 404 });
  });

  test('API errors keep their code: name conflict, unknown pool, wrong key', async () => {
    const c = await berth.containers.create({ name: 'sdk-taken' });
    await expect(berth.containers.create({ name: 'sdk-taken' })).rejects.toMatchObject({ code: 'NAME_CONFLICT', status: 409 });
    await expect(berth.containers.create({ pool: 'nope' })).rejects.toMatchObject({ code: 'POOL_NOT_FOUND' });
    await expect(new Berth({ url: stack.url, apiKey: 'wrong-key-123456' }).containers.list()).rejects.toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    await c.delete();
  });

  test('a deadline shorter than the call is a BerthTimeoutError; a retry with the same key finds the container', async () => {
    const key = `sdk-deadline-${Date.now()}`;
    // A cold create (pool: false) takes hundreds of ms whatever the machine's load; a warm claim can
    // beat even a 2 ms deadline when a busy event loop runs the timer late.
    await expect(berth.containers.create({ idempotencyKey: key, pool: false, timeoutMs: 50 })).rejects.toBeInstanceOf(BerthTimeoutError);
    const c = await berth.containers.create({ idempotencyKey: key, pool: false });
    await c.delete();
  });

  test('aborting a running exec is a BerthAbortError, and the container still works', async () => {
    const c = await berth.containers.create();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const started = Date.now();
    await expect(c.exec('sleep 5', { signal: ac.signal, timeoutMs: 10_000 })).rejects.toBeInstanceOf(BerthAbortError);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await c.exec('echo still here')).stdout).toBe('still here\n');
    await c.delete();
  });
});
