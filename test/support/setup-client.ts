import { SetupStatusSchema, type SetupStatus } from '@berth/contracts';
import type { LocalStack } from './local-stack.js';

/** A small JSON client for the setup tests against a LocalStack. */
export function apiClient(stack: LocalStack) {
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${stack.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };

  const claim = async (): Promise<{ id: string; hostPort: number }> => {
    const r = await api('POST', '/api/containers', {});
    if (r.status !== 201) throw new Error(`claim: ${r.status} ${r.text}`);
    return r.json() as { id: string; hostPort: number };
  };

  /** Polls GET .../setup until the phase is ready or failed. */
  const awaitSetup = async (id: string, timeoutMs = 120_000): Promise<SetupStatus> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await api('GET', `/api/containers/${id}/setup`);
      // 503 while pool-manager restarts, or 504 when the restarted one has not answered in time yet (both retryable).
      if ((r.status === 503 || r.status === 504) && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 200));
        continue;
      }
      if (r.status !== 200) throw new Error(`GET setup: ${r.status} ${r.text}`);
      const status = SetupStatusSchema.parse(r.json());
      if (status.phase === 'ready' || status.phase === 'failed') return status;
      if (Date.now() > deadline) throw new Error(`setup still ${status.phase} after ${timeoutMs} ms\n${stack.outputTail()}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  };

  const exec = async (id: string, command: string | string[], timeout = 30_000) => {
    const r = await api('POST', `/api/containers/${id}/exec`, { command, timeout });
    if (r.status !== 200) throw new Error(`exec: ${r.status} ${r.text}`);
    return r.json() as { exitCode: number; stdout: string; stderr: string };
  };

  return { api, claim, awaitSetup, exec };
}
