import { afterAll, beforeAll, expect, test } from 'vitest';
import type { LocalStack } from '../support/local-stack.js';
import { runSoak } from './soak-run.js';
import { SOAK_WARM, startSoakStack } from './soak-stack.js';

// The short CI form of `pnpm soak`: ~45 s of steady claims, execs, log reads and terminals on the
// real stack; nothing may fail and nothing may leak.
let stack: LocalStack;
beforeAll(async () => {
  stack = await startSoakStack();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

test('45 s of steady traffic: no error, no leaked container or port, bounded fd and RSS growth', async () => {
  const r = await runSoak(stack, { durationS: Number(process.env.SOAK_CI_DURATION_S ?? 45), warmContainers: SOAK_WARM });
  const summary = JSON.stringify({ ...r, start: undefined, end: undefined }, null, 1);
  expect(r.errors, `${summary}\n${stack.outputTail()}`).toBe(0);
  // It really ran every kind of operation, more than once.
  for (const kind of ['claim', 'exec', 'logs', 'terminal', 'delete']) expect(r.opsByKind[kind], kind).toBeGreaterThan(2);
  expect(r.end.containers, summary).toBe(SOAK_WARM);
  expect(r.containersLeaked).toBe(0);
  expect(r.portsLeaked).toBe(0);
  for (const [service, fds] of Object.entries(r.fdGrowth)) expect(fds, `${service} fds ${summary}`).toBeLessThan(20);
  for (const [service, mb] of Object.entries(r.rssGrowthMb)) expect(mb, `${service} RSS ${summary}`).toBeLessThan(50);
}, 240_000);
