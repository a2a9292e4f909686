import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

// The whole slice as a caller sees it: gateway and pool-manager as real processes, real NATS,
// Redis and Docker, spoken to only over HTTP.
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack(
    {
      POOLS: JSON.stringify([{ name: 'default', targetSize: 2, maxCreating: 2, memoryMb: 64, pids: 64 }]),
      MAX_CONTAINERS: '6',
    },
    'debug',
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.token}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test asserts the fields it reads
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as Record<string, any> };
}

describe('through the HTTP API', () => {
  test('claim, exec, list, delete', async () => {
    const created = await call('POST', '/api/containers', { name: 'e2e-one' });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect(created.json.hostPort).toBe(created.json.ports['3000']);

    const exec = await call('POST', `/api/containers/${id}/exec`, { command: 'echo out; echo err >&2; exit 3', timeout: 10_000 });
    expect(exec.status).toBe(200);
    expect(exec.json).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false, truncated: false });

    const list = await call('GET', '/api/containers');
    expect(list.json.containers.map((c: { id: string }) => c.id)).toContain(id);
    expect((await call('GET', `/api/containers/${id}`)).json.name).toBe('e2e-one');

    expect((await call('DELETE', `/api/containers/${id}`)).status).toBe(200);
    expect((await call('GET', `/api/containers/${id}`)).status).toBe(404);
    expect(execFileSync('docker', ['ps', '-aq', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim()).toBe('');
    expect(execFileSync('docker', ['volume', 'ls', '-q', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim()).toBe('');
  });

  test('errors from pool-manager keep their code and status over the bus', async () => {
    const first = await call('POST', '/api/containers', { name: 'taken' });
    expect(first.status).toBe(201);
    const conflict = await call('POST', '/api/containers', { name: 'taken' });
    expect([conflict.status, conflict.json.error.code]).toEqual([409, 'NAME_CONFLICT']);
    const missing = await call('POST', '/api/containers', { image: 'berth/does-not-exist:1' });
    expect([missing.status, missing.json.error.code]).toEqual([400, 'IMAGE_NOT_FOUND']);
    const pool = await call('POST', '/api/containers', { pool: 'nope' });
    expect([pool.status, pool.json.error.code]).toEqual([404, 'POOL_NOT_FOUND']);
    expect((await call('GET', '/api/containers/ws_0000000000000000')).status).toBe(404);
    expect((await call('POST', '/api/containers', { privileged: true })).json.error.code).toBe('FORBIDDEN_OPTION');
    expect((await call('GET', '/api/containers', undefined, { authorization: 'Bearer wrong-token-1234567' })).status).toBe(401);
    await call('DELETE', `/api/containers/${first.json.id}`);
  });

  test('a host at its budget answers 503 with Retry-After, and recovers', async () => {
    const made: string[] = [];
    let full: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 10 && !full; i++) {
      const r = await call('POST', '/api/containers', { ports: [4000 + i] });
      if (r.status === 201) made.push(r.json.id as string);
      else full = r;
    }
    expect(full?.status).toBe(503);
    expect(full?.json.error).toMatchObject({ code: 'CAPACITY_EXHAUSTED', retryable: true });
    expect(Number(full?.headers.get('retry-after'))).toBeGreaterThan(0);
    await Promise.all(made.map((id) => call('DELETE', `/api/containers/${id}`)));
    expect((await call('POST', '/api/containers', { ports: [4999] })).status).toBe(201);
  });

  test('the API token is in no log line, container env or label', async () => {
    const c = await call('POST', '/api/containers', {});
    const ref = execFileSync('docker', ['ps', '-aq', '--filter', `label=berth.id=${c.json.id}`], { encoding: 'utf8' }).trim();
    const inspect = execFileSync('docker', ['inspect', ref], { encoding: 'utf8' });
    expect(inspect).toContain(c.json.id);
    expect(inspect).not.toContain(stack.token);
    // debug logs include every request; the Authorization header must be redacted in all of them.
    expect(stack.gateway.output).toContain('/api/containers');
    expect(stack.gateway.output).not.toContain(stack.token);
    expect(stack.poolManager.output).not.toContain(stack.token);
  });
});
