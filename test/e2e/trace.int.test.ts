import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

// W3C trace context on the real stack: the trace id of one HTTP request shows up in the log
// lines of the gateway and of pool-manager, which got it through NATS headers.
let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack(
    {
      POOLS: JSON.stringify([{ name: 'default', targetSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 }]),
      MAX_CONTAINERS: '4',
    },
    'debug',
    { keepAllOutput: true },
  );
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

interface LogLine {
  service?: string;
  trace_id?: string;
  msg?: string;
  subject?: string;
}
const linesOf = (output: string): LogLine[] =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
const withTrace = (output: string, traceId: string) => linesOf(output).filter((l) => l.trace_id === traceId);

async function call(method: string, path: string, body: unknown, traceparent?: string) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json', ...(traceparent && { traceparent }) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { id: string } };
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 50 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
  if (!check()) throw new Error(`${what}\n${stack.outputTail()}`);
}

describe("trace context from HTTP through NATS into every service's logs", () => {
  test("one exec: the caller's trace id is in the gateway's and pool-manager's log lines", async () => {
    const created = await call('POST', '/api/containers', {});
    expect(created.status).toBe(201);
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const exec = await call('POST', `/api/containers/${created.json.id}/exec`, { command: 'echo traced' }, traceparent);
    expect(exec.status).toBe(200);

    await eventually(
      () =>
        withTrace(stack.poolManager.allOutput, traceId).length > 0 && withTrace(stack.gateway.allOutput, traceId).some((l) => l.msg === 'request completed'),
      `trace ${traceId} missing from a service's logs`,
    );
    const gateway = withTrace(stack.gateway.allOutput, traceId);
    const poolManager = withTrace(stack.poolManager.allOutput, traceId);
    expect(gateway.map((l) => l.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
    expect(poolManager.map((l) => [l.msg, l.subject])).toContainEqual(['answered', 'berth.container.exec']);
    // Only this request's lines carry it.
    expect(poolManager.every((l) => l.subject === undefined || l.subject === 'berth.container.exec')).toBe(true);
  });

  test('a request without traceparent gets a new trace, the same in both services', async () => {
    const created = await call('POST', '/api/containers', {});
    expect(created.status).toBe(201);
    const completed = linesOf(stack.gateway.allOutput).filter((l) => l.msg === 'incoming request' && l.trace_id);
    const traceId = completed.at(-1)?.trace_id ?? '';
    expect(traceId).toMatch(/^[\da-f]{32}$/);
    await eventually(() => withTrace(stack.poolManager.allOutput, traceId).length > 0, `new trace ${traceId} not in pool-manager's logs`);
    expect(withTrace(stack.poolManager.allOutput, traceId).map((l) => l.subject)).toContain('berth.container.create');
  });
});
