import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { SecondDockerd } from '../support/second-dockerd.js';
import { portRange, sleep } from '@berth/service-kit/testing';

// A Docker engine restart with live-restore keeps claimed workspaces running: pool-manager runs on
// a second dockerd of this machine (the system one is shared), which is stopped and started again
// under a claimed workspace. The workspace's process survives, commands keep working (through the
// in-workspace agent), reconcile keeps it once the engine is back, and a delete still cleans up.
const engine = new SecondDockerd();
let stack: LocalStack;
const hadDocker0 = existsSync('/sys/class/net/docker0');

beforeAll(async () => {
  await engine.start();
  engine.loadImage(process.env.WORKSPACE_IMAGE ?? 'berth/workspace:latest');
  const { lo } = portRange();
  stack = await startLocalStack({
    DOCKER_SOCKET: engine.socket,
    WORKSPACE_NETWORK: `berth-lr-${randomBytes(3).toString('hex')}`,
    POOLS: JSON.stringify([{ name: 'default', targetSize: 1, minSize: 1, memoryMb: 128 }]),
    PORT_RANGE: `${lo}-${lo + 49}`,
    RECONCILE_INTERVAL_MS: '1000',
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await engine.dispose();
}, 120_000);

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const state = (id: string) => {
  const ref = engine.docker('ps', '-aq', '--filter', `label=berth.id=${id}`);
  return engine.docker('inspect', '-f', '{{.State.Running}} {{.State.Pid}} {{.State.StartedAt}}', ref);
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a claimed workspace keeps running through an engine restart and answers commands after it', async () => {
  const created = await api('POST', '/api/containers', {});
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const id = String(created.json.id);
  const exec = (command: string) => api('POST', `/api/containers/${id}/exec`, { command });
  expect((await exec('echo before')).json).toMatchObject({ exitCode: 0, stdout: 'before\n' });
  const before = state(id);
  const pid = Number(before.split(' ')[1]);
  expect(before.startsWith('true ')).toBe(true);

  await engine.stop();
  expect(alive(pid), 'the workspace process outlives its engine').toBe(true);
  // Commands go through the workspace's agent, not the engine: they keep working meanwhile.
  expect((await exec('echo during')).json).toMatchObject({ exitCode: 0, stdout: 'during\n' });

  await engine.start();
  let after = await exec('echo after');
  for (let i = 0; i < 50 && after.status !== 200; i++) {
    await sleep(200);
    after = await exec('echo after');
  }
  expect(after.json, stack.outputTail()).toMatchObject({ exitCode: 0, stdout: 'after\n' });
  expect(state(id), 'same process, never restarted').toBe(before);

  await sleep(2_500); // two reconcile passes against the restarted engine
  expect((await api('GET', `/api/containers/${id}`)).status).toBe(200);
  expect(state(id)).toBe(before);

  expect((await api('DELETE', `/api/containers/${id}`)).status).toBe(200);
  expect(engine.docker('ps', '-aq', '--filter', `label=berth.id=${id}`)).toBe('');
  // The second engine left the system engine's default bridge alone.
  expect(existsSync('/sys/class/net/docker0')).toBe(hadDocker0);
}, 120_000);
