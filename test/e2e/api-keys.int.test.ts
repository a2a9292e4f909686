import { type ApiKeyEntry, mintKey } from '@berth/gateway';
import { callApi } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { TerminalClient } from '../support/terminal-client.js';

// API keys on the real stack: two owners cannot see each other's containers through any route,
// scopes are enforced, and keys rotate on a running gateway (SIGHUP) with no request refused.
const alice = mintKey({ name: 'alice', owner: 'alice', scopes: ['read', 'write', 'exec'] });
const aliceReader = mintKey({ name: 'alice-reader', owner: 'alice', scopes: ['read'] });
const bob = mintKey({ name: 'bob', owner: 'bob', scopes: ['read', 'write', 'exec'] });
const baseKeys: ApiKeyEntry[] = [alice.entry, aliceReader.entry, bob.entry];

let stack: LocalStack;
let aliceId = '';
let bobId = '';

beforeAll(async () => {
  stack = await startLocalStack(
    {
      POOLS: JSON.stringify([{ name: 'default', targetSize: 2, maxCreating: 2, memoryMb: 64, pids: 64 }]),
      MAX_CONTAINERS: '6',
    },
    'info',
    {
      keys: baseKeys,
      // Only SIGHUP reloads in this file, so a reload seen here is the signal's doing.
      gatewayEnv: { KEYS_RELOAD_INTERVAL_MS: '600000' },
    },
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const call = (key: string, method: string, path: string, body?: unknown) => callApi(stack.url, key, method, path, body);

const wsUrl = (id: string) => `${stack.url.replace('http', 'ws')}/api/containers/${id}/terminal`;

/** Every way into a container, as `key`; each answer's status and error code. */
async function everyRoute(key: string, id: string): Promise<Record<string, string>> {
  const seen: Record<string, string> = {};
  const note = (name: string, r: { status: number; json: { error?: { code: string } } }) => {
    seen[name] = `${r.status} ${r.json.error?.code ?? ''}`.trim();
  };
  note('get', await call(key, 'GET', `/api/containers/${id}`));
  note('exec', await call(key, 'POST', `/api/containers/${id}/exec`, { command: ['true'] }));
  note('exec-stream', await call(key, 'POST', `/api/containers/${id}/exec?stream=true`, { command: ['true'] }));
  note('tickets', await call(key, 'POST', `/api/containers/${id}/tickets`));
  note('logs', await call(key, 'GET', `/api/containers/${id}/logs?follow=false`));
  const term = await TerminalClient.open(wsUrl(id), { token: key });
  // A shell that did open is told to exit; a refused one has closed already.
  term.type('exit 7\n');
  const closed = await term.closed;
  const last = (term.frames as { type: string; code?: string | number }[]).find((f) => f.type === 'error' || f.type === 'exit');
  seen.terminal = `${closed.code} ${last?.type ?? ''} ${last?.code ?? ''}`.trim();
  return seen;
}

const NOT_FOUND = '404 CONTAINER_NOT_FOUND';

describe('two owners', () => {
  test("each creates a container; neither can list, get, exec, stream, ticket, read logs of, open a terminal in or delete the other's", async () => {
    const a = await call(alice.key, 'POST', '/api/containers', {});
    const b = await call(bob.key, 'POST', '/api/containers', {});
    expect([a.status, b.status]).toEqual([201, 201]);
    aliceId = a.json.id as string;
    bobId = b.json.id as string;

    expect(((await call(alice.key, 'GET', '/api/containers')).json.containers as { id: string }[]).map((c) => c.id)).toEqual([aliceId]);
    expect(((await call(bob.key, 'GET', '/api/containers')).json.containers as { id: string }[]).map((c) => c.id)).toEqual([bobId]);
    // The shared token is an admin key of owner 'default': admin is a scope, not a view of every owner.
    expect((await call(stack.token, 'GET', '/api/containers')).json.containers).toEqual([]);

    for (const [key, foreign] of [
      [bob.key, aliceId],
      [alice.key, bobId],
      [stack.token, aliceId],
    ] as const) {
      const seen = await everyRoute(key, foreign);
      expect(seen).toEqual({
        get: NOT_FOUND,
        exec: NOT_FOUND,
        'exec-stream': NOT_FOUND,
        tickets: NOT_FOUND,
        logs: NOT_FOUND,
        terminal: '1011 error CONTAINER_NOT_FOUND',
      });
      // Exactly what a container that never existed answers.
      expect(await everyRoute(key, 'ws_00000000000000ff')).toEqual(seen);
    }
    expect((await call(bob.key, 'DELETE', `/api/containers/${aliceId}`)).status).toBe(404);

    // The owner still has everything.
    const own = await everyRoute(alice.key, aliceId);
    expect(own).toEqual({ get: '200', exec: '200', 'exec-stream': '200', tickets: '201', logs: '200', terminal: '1000 exit 7' });
    expect((await call(alice.key, 'GET', `/api/containers/${aliceId}`)).json.id).toBe(aliceId);
  }, 60_000);

  test('a second key of the same owner sees the same containers, within its scopes', async () => {
    expect((await call(aliceReader.key, 'GET', `/api/containers/${aliceId}`)).status).toBe(200);
    expect(((await call(aliceReader.key, 'GET', '/api/containers')).json.containers as { id: string }[]).map((c) => c.id)).toEqual([aliceId]);
    for (const [method, path, body] of [
      ['POST', '/api/containers', {}],
      ['DELETE', `/api/containers/${aliceId}`, undefined],
      ['POST', `/api/containers/${aliceId}/exec`, { command: ['true'] }],
      ['POST', `/api/containers/${aliceId}/tickets`, undefined],
      ['GET', `/api/containers/${aliceId}/logs?follow=false`, undefined],
    ] as const) {
      const r = await call(aliceReader.key, method, path, body);
      expect([r.status, r.json.error?.code], `${method} ${path}`).toEqual([403, 'FORBIDDEN']);
    }
    // A forbidden delete removed nothing.
    expect((await call(alice.key, 'GET', `/api/containers/${aliceId}`)).status).toBe(200);
    const term = await TerminalClient.open(wsUrl(aliceId), { token: aliceReader.key }).then(
      () => 'opened',
      (e: Error) => e.message,
    );
    expect(term).toBe('HTTP 403');
  });
});

describe('rotation on a running gateway', () => {
  test('add the new key, SIGHUP, both work; drop the old, SIGHUP, only the new works; no request in between is refused', async () => {
    const next = mintKey({ name: 'alice-next', owner: 'alice', scopes: ['read', 'write', 'exec'] });
    const reloads = () => (stack.gateway.output.match(/API keys reloaded/g) ?? []).length;
    const hup = async () => {
      const before = reloads();
      stack.gateway.signal('SIGHUP');
      for (let i = 0; i < 100 && reloads() === before; i++) await new Promise((r) => setTimeout(r, 50));
      expect(reloads()).toBe(before + 1);
    };

    // A caller polls with the old key throughout the overlap; none of its requests may fail.
    let stop = false;
    const failures: number[] = [];
    let polled = 0;
    const poller = (async () => {
      while (!stop) {
        const r = await call(alice.key, 'GET', '/api/containers');
        polled += 1;
        if (r.status !== 200) failures.push(r.status);
      }
    })();

    expect((await call(next.key, 'GET', '/api/containers')).status).toBe(401);
    stack.writeKeys([...baseKeys, next.entry]);
    await hup();
    const listed = await call(next.key, 'GET', '/api/containers');
    expect(listed.status).toBe(200);
    expect((listed.json.containers as { id: string }[]).map((c) => c.id)).toEqual([aliceId]);
    stop = true;
    await poller;
    expect(polled).toBeGreaterThan(0);
    expect(failures).toEqual([]);

    stack.writeKeys([aliceReader.entry, bob.entry, next.entry]);
    await hup();
    expect((await call(alice.key, 'GET', '/api/containers')).status).toBe(401);
    expect((await call(next.key, 'GET', `/api/containers/${aliceId}`)).status).toBe(200);
    expect(stack.gateway.running).toBe(true);

    // A broken file keeps the keys in force.
    stack.writeKeys('nope' as never);
    stack.gateway.signal('SIGHUP');
    for (let i = 0; i < 100 && !stack.gateway.output.includes('API keys not reloaded'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(stack.gateway.output).toContain('API keys not reloaded');
    expect((await call(next.key, 'GET', '/api/containers')).status).toBe(200);

    // Clean up as the owners.
    expect((await call(next.key, 'DELETE', `/api/containers/${aliceId}`)).status).toBe(200);
    expect((await call(bob.key, 'DELETE', `/api/containers/${bobId}`)).status).toBe(200);
  }, 60_000);

  test('no key or hash appears in any log line', () => {
    for (const out of [stack.gateway.output, stack.poolManager.output]) {
      for (const secret of [alice.key, bob.key, aliceReader.key, stack.token]) expect(out).not.toContain(secret);
    }
  });
});
