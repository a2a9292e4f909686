import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { startSetupFixture, type SetupFixture } from '../support/setup-fixture.js';

// OpenTelemetry on the real stack: gateway, pool-manager, repo-cache and egress as processes, each
// exporting over OTLP/HTTP JSON to a receiver on loopback. One setup is one trace across all four.
const TOKEN = `ghp_${'OtelSetupT0kenValue'.repeat(2)}`;
const CALLBACK_SECRET = 'otel-setup-callback-secret-0123456789';
const OTEL_ENV = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_BSP_SCHEDULE_DELAY'] as const;
let f: SetupFixture;
let otlp: OtlpReceiver;
let callbacks: CallbackReceiver;
const saved = Object.fromEntries(OTEL_ENV.map((k) => [k, process.env[k]]));

beforeAll(async () => {
  otlp = await OtlpReceiver.start();
  callbacks = await CallbackReceiver.start(CALLBACK_SECRET);
  // The service processes inherit this process's environment.
  Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100' });
  f = await startSetupFixture(TOKEN, { SETUP_INSTALL_TIMEOUT_MS: '20000' }, { withEgress: true, egressAllowCidrs: '127.0.0.1/32' });
}, 120_000);
afterAll(async () => {
  for (const k of OTEL_ENV)
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  await f?.stop();
  await callbacks?.close();
  await otlp?.close();
});

/** What is still missing from the trace: services, spans, or a parent that is not in it. */
function gaps(spans: ReceivedSpan[], callerSpanId: string): string[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const missing = ['gateway', 'pool-manager', 'repo-cache', 'egress'].filter((svc) => !spans.some((s) => s.service === svc));
  const names = ['POST /api/containers/:id/setup', 'setup', 'setup cloning', 'setup installing', 'setup starting'].filter(
    (n) => !spans.some((s) => s.name === n),
  );
  const orphans = spans.filter((s) => s.parentSpanId !== callerSpanId && !ids.has(s.parentSpanId)).map((s) => `${s.service}:${s.name} has no parent`);
  return [...missing, ...names, ...orphans];
}

test('one setup: one trace through gateway, pool-manager, repo-cache and egress, exported over OTLP', async () => {
  const auth = { authorization: `Bearer ${f.stack.token}`, 'content-type': 'application/json' };
  const created = await fetch(`${f.stack.url}/api/containers`, { method: 'POST', headers: auth, body: '{}' });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  const res = await fetch(`${f.stack.url}/api/containers/${id}/setup`, {
    method: 'POST',
    headers: { ...auth, traceparent: `00-${traceId}-${callerSpanId}-01`, tracestate: 'caller=1' },
    body: JSON.stringify({ repo: 'acme/app', branch: 'main', githubToken: TOKEN, callbackUrl: callbacks.url, callbackSecret: CALLBACK_SECRET }),
  });
  expect(res.status, await res.text()).toBe(202);
  const status = await f.client.awaitSetup(id);
  expect(status.phase, JSON.stringify(status)).toBe('ready');

  const trace = () => otlp.spans.filter((s) => s.traceId === traceId);
  for (let i = 0; i < 100 && gaps(trace(), callerSpanId).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(
    gaps(trace(), callerSpanId),
    `${trace()
      .map((s) => `${s.service}:${s.name}`)
      .join('\n')}\n${f.stack.outputTail()}`,
  ).toEqual([]);

  const spans = trace();
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const parentService = (s: ReceivedSpan) => byId.get(s.parentSpanId)?.service;
  // The caller's span is the root's parent; each hop is a child of the one that asked it.
  expect(spans.find((s) => s.name === 'POST /api/containers/:id/setup')).toMatchObject({
    service: 'gateway',
    parentSpanId: callerSpanId,
    attributes: { 'http.route': '/api/containers/:id/setup', 'http.response.status_code': 202 },
  });
  expect(spans.filter((s) => s.service === 'pool-manager' && parentService(s) === 'gateway').map((s) => s.name)).toContain('answer berth.setup.start');
  for (const svc of ['repo-cache', 'egress'])
    expect(
      spans.some((s) => s.service === svc && parentService(s) === 'pool-manager'),
      svc,
    ).toBe(true);
  expect(parentService(spans.find((s) => s.name === 'setup cloning')!)).toBe('pool-manager');
  // No secret and no URL with a query leaves a service in a span.
  for (const body of otlp.bodies) for (const secret of [TOKEN, CALLBACK_SECRET, f.stack.token]) expect(body).not.toContain(secret);
  await fetch(`${f.stack.url}/api/containers/${id}`, { method: 'DELETE', headers: { authorization: auth.authorization } });
}, 150_000);
