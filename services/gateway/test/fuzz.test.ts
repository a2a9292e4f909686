import { Writable } from 'node:stream';
import { createLogger } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../test/support/fuzz/prng.js';
import { fuzz, summary } from '../../../test/support/fuzz/run.js';
import { ID, TOKEN, build, containerView } from './helpers.js';

const COUNT = Number(process.env.FUZZ_COUNT ?? 4_000);

describe('schema-driven fuzzing of every documented route (fake backend)', () => {
  it(`${COUNT} generated requests: no 5xx, no error logged, every error a contracts ErrorBody with a matching status`, async () => {
    const logged: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    const { app, backend } = await build(
      {
        hostStatus: () => ({
          hostId: 'h',
          containers: { total: 1, warm: 0, claimed: 1, creating: 0 },
          capacity: { maxContainers: 9, maxMemoryMb: 900, usedMemoryMb: 64 },
        }),
        poolList: () => ({ pools: [] }),
        containerList: () => ({ containers: [containerView()], count: 1 }),
        containerGet: (req) => containerView(req.id),
        containerUsage: (req) => ({
          id: req.id,
          at: new Date().toISOString(),
          cpuPercent: 1.5,
          memoryBytes: 1,
          memoryLimitBytes: 2,
          pids: 1,
          netRxBytes: 0,
          netTxBytes: 0,
        }),
        containerCreate: (req) => ({ ...containerView(), name: req.name ?? 'agent-1', warm: true }),
        containerDelete: (req) => ({ id: req.id, removed: true as const }),
        containerLlmKeyRevoke: (req) => ({ id: req.id, llmKey: 'revoked' as const }),
        containerLlmKeyRotate: (req) => ({ id: req.id, llmKey: 'active' as const }),
        containerKeepalive: (req) => ({ id: req.id, idleTimeoutSeconds: req.idleTimeoutSeconds ?? 1800, reapAt: new Date().toISOString() }),
        containerExec: () => ({
          exitCode: 0,
          stdout: '',
          stderr: '',
          stdoutTruncated: false,
          stderrTruncated: false,
          truncated: false,
          timedOut: false,
          durationMs: 1,
        }),
        volumeList: () => ({ volumes: [{ name: 'cache-1', createdAt: new Date().toISOString(), inUse: false }], count: 1, limit: 20 }),
        volumeDelete: (req) => ({ name: req.name, removed: true as const }),
        ticketCreate: () => ({ ticket: 'a'.repeat(43), expiresAt: new Date(Date.now() + 30_000).toISOString() }),
        ticketRedeem: () => ({ owner: 'default' }),
        setupStart: (req) => ({
          id: req.id,
          seq: 1,
          phase: 'queued',
          repo: req.body.repo,
          branch: req.body.branch,
          at: new Date().toISOString(),
          startedAt: new Date().toISOString(),
          durations: {},
        }),
        containerPause: (req) => ({ ...containerView(req.id), state: 'paused' as const }),
        containerResume: (req) => containerView(req.id),
        previewLinkCreate: (req) => ({
          previewId: 'pv_0c2b7d1e4a563f9a',
          id: req.id,
          port: req.port,
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
          secret: 'a'.repeat(43),
        }),
        previewLinkRevoke: (req) => ({ previewId: req.previewId, revoked: true as const }),
        setupGet: (req) => ({
          id: req.id,
          seq: 2,
          phase: 'cloning',
          repo: 'acme/web',
          branch: 'main',
          at: new Date().toISOString(),
          startedAt: new Date().toISOString(),
          durations: {},
        }),
      },
      { logger: createLogger('gateway', 'warn', sink), bodyLimitBytes: 256 * 1024, rateLimit: { rps: 0, burst: 1, authFailuresPerMinute: 0 } },
    );
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as unknown;
    const rng = Rng.fromEnv();
    const report = await fuzz({
      doc,
      rng,
      count: COUNT,
      token: TOKEN,
      knownIds: [ID],
      secrets: [TOKEN],
      send: async (req) => {
        const res = await app.inject({
          method: req.method as 'GET',
          url: req.url,
          headers: req.headers,
          ...(req.payload !== undefined && { payload: req.payload }),
        });
        return { status: res.statusCode, headers: res.headers, body: res.body };
      },
    });
    console.log(summary('gateway unit', report));
    expect(report.failures, `seed ${report.seed}`).toEqual([]);
    expect(report.sent).toBe(COUNT);
    // The run must have reached the handlers and the validators both, or it proved little.
    expect(backend.calls.length, 'requests that reached the backend').toBeGreaterThan(COUNT / 20);
    expect(Object.keys(report.byStatus).filter((s) => s.startsWith('4')).length).toBeGreaterThanOrEqual(4);
    expect(
      logged.filter((l) => /"level":(50|60)/.test(l)),
      'error-level logs',
    ).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    await app.close();
  }, 150_000); // 6–12 s on a quiet CI machine; the bound is for a loaded one
});
