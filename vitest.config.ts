import { defineConfig } from 'vitest/config';

// Unit tests use small fakes behind berth's own interfaces and need no Docker. The other projects
// start a real nats-server and redis-server and talk to the real Docker engine (see test/support).
//
// Projects run in groups, lowest first, one group at a time: unit; then integration and e2e
// together, their files in parallel (BERTH_TEST_WORKERS at once: they mostly wait on the engine,
// so a few more than the cores); then, each alone and one file at a time: solo (files that measure
// the host's CPU or start several engines and a NATS cluster, which neighbours would distort or
// starve), stack (compose and scripts/up stacks, which build shared images), chaos (kills
// processes) and soak. Files that run at once get disjoint host ports (`portRange` in
// @berth/service-kit/testing) and their own host id and network.
const WORKERS = Number(process.env.BERTH_TEST_WORKERS ?? 3);
const SOLO = ['services/pool-manager/test/abuse.int.test.ts', 'test/e2e/multi-host.int.test.ts'];
const INT = '**/*.int.test.ts';
const dockerTimeouts = { testTimeout: 60_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    maxWorkers: WORKERS,
    env: { BERTH_TEST_WORKERS: String(WORKERS) },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/*.test.ts'],
          exclude: [INT, '**/node_modules/**'],
          // Some build a whole fastify app per test: room for a loaded machine.
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: [`packages/*/test/${INT}`, `services/*/test/${INT}`, `examples/test/${INT}`],
          exclude: [...SOLO, '**/node_modules/**'],
          ...dockerTimeouts,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: { name: 'e2e', include: [`test/e2e/${INT}`], exclude: SOLO, ...dockerTimeouts, sequence: { groupOrder: 1 } },
      },
      {
        test: { name: 'solo', include: SOLO, ...dockerTimeouts, fileParallelism: false, sequence: { groupOrder: 2 } },
      },
      {
        test: { name: 'stack', include: [`test/stack/${INT}`], ...dockerTimeouts, fileParallelism: false, sequence: { groupOrder: 3 } },
      },
      {
        test: { name: 'chaos', include: [`test/chaos/${INT}`], ...dockerTimeouts, fileParallelism: false, sequence: { groupOrder: 4 } },
      },
      {
        test: { name: 'soak', include: [`test/soak/${INT}`], ...dockerTimeouts, fileParallelism: false, sequence: { groupOrder: 5 } },
      },
    ],
  },
});
