import { Registry } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import { FakeStreams } from './fake-streams.js';
import { AUTH, ID, JSON_HEADERS, build, containerView } from './helpers.js';

describe('GET /metrics', () => {
  it('serves Prometheus text with request durations labelled by route pattern', async () => {
    const registry = new Registry();
    const { app } = await build({ containerGet: (req) => containerView(req.id) }, { metrics: registry });
    await app.inject({ method: 'GET', url: `/api/containers/${ID}`, headers: AUTH });
    await app.inject({ method: 'GET', url: '/api/containers/ws_ffffffffffffffff' });
    await app.inject({ method: 'GET', url: '/some/probe/path' });
    await app.inject({ method: 'GET', url: '/docs/json' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    await app.close();

    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('# TYPE berth_http_request_duration_seconds histogram');
    expect(res.body).toMatch(/berth_http_request_duration_seconds_count\{method="GET",route="\/api\/containers\/:id",status="200"\} 1/);
    expect(res.body).toMatch(/route="\/api\/containers\/:id",status="401"\} 1/);
    expect(res.body).toMatch(/route="unmatched",status="404"\} 1/);
    expect(res.body).toMatch(/route="\/docs\/json",status="200"\} 1/);
    expect(res.body).not.toContain(ID);
    expect(res.body).not.toContain('probe');
  });

  it('counts exec requests by mode and status, streamed ones included', async () => {
    const registry = new Registry();
    const streams = new FakeStreams((s) => s.emit({ type: 'end', exitCode: 0, timedOut: false, cancelled: false, durationMs: 1 }));
    const exec = { exitCode: 0, stdout: '', stderr: '', stdoutTruncated: false, stderrTruncated: false, truncated: false, timedOut: false, durationMs: 1 };
    const { app } = await build({ containerExec: () => exec }, { metrics: registry, streams });
    const post = (url: string, payload: Record<string, unknown>) => app.inject({ method: 'POST', url, headers: JSON_HEADERS, payload });
    await post(`/api/containers/${ID}/exec`, { command: 'true' });
    await post(`/api/containers/${ID}/exec`, { command: 'true' });
    await post(`/api/containers/${ID}/exec`, { nope: 1 });
    await post(`/api/containers/${ID}/exec?stream=true`, { command: 'true' });
    const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    await app.close();
    expect(body).toMatch(/berth_exec_requests_total\{mode="sync",status="200"[^}]*\} 2/);
    expect(body).toMatch(/berth_exec_requests_total\{mode="sync",status="400"[^}]*\} 1/);
    expect(body).toMatch(/berth_exec_requests_total\{mode="stream",status="200"[^}]*\} 1/);
  });

  it('includes the default process metrics of createMetricsRegistry', async () => {
    const { app } = await build();
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    await app.close();
    expect(res.body).toMatch(/^process_cpu_seconds_total\{service="gateway"\} /m);
    expect(res.body).toContain('service="gateway"');
  });
});
