import type { JsonClient } from './http-client.js';
import { round, summary } from './stats.js';

/** Workspaces flooding their output while the measured one runs `true`. */
export const NOISY_WORKSPACES = 8;

/**
 * `noisy_neighbour_exec_ratio`: the exec p50 (`true` through the HTTP API) of one workspace while
 * each of eight other workspaces keeps one `cat /dev/zero` exec running in a loop (a new one as
 * soon as the last answers: each ends at the 1 MiB output cap), over the same workspace's p50
 * measured just before with the eight idle. Target ≤ 2.
 */
export async function noisyNeighbour(client: JsonClient, execs: number, timed: (n: number, fn: () => Promise<unknown>) => Promise<number[]>, poolSize: number) {
  const claim = async () => String((await client.ok('POST', '/api/containers', {})).id);
  const quiet = await claim();
  const noisy: string[] = [];
  for (let i = 0; i < NOISY_WORKSPACES; i++) noisy.push(await claim());
  // The pool refills after the claims: both samples are taken once it is done.
  await client.waitWarm(poolSize);
  const execTrue = () => client.ok('POST', `/api/containers/${quiet}/exec`, { command: ['true'] });
  try {
    const alone = await timed(execs, execTrue);
    let flooding = true;
    let floods = 0;
    const loops = noisy.map(async (id) => {
      while (flooding) {
        const status = await client.discard('POST', `/api/containers/${id}/exec`, { command: ['cat', '/dev/zero'], timeout: 60_000 });
        if (status !== 200) throw new Error(`cat /dev/zero exec answered ${status}`);
        floods += 1;
      }
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const before = floods;
    const t0 = performance.now();
    const loaded = await timed(execs, execTrue);
    const floodsPerSecond = round(((floods - before) * 1000) / (performance.now() - t0), 1);
    flooding = false;
    await Promise.all(loops);
    const s = { alone: summary(alone), loaded: summary(loaded), floodsPerSecond };
    return {
      figures: { noisy_neighbour_exec_ratio: round(s.loaded.p50 / s.alone.p50), noisy_neighbour_exec_p50_ms: s.loaded.p50 },
      row: {
        measure: `exec \`true\` p50 while ${NOISY_WORKSPACES} workspaces loop \`cat /dev/zero\` execs (ratio to alone)`,
        value: `${s.loaded.p50} ms (${round(s.loaded.p50 / s.alone.p50)}x; ${floodsPerSecond} capped execs/s)`,
        baseline: `alone ${s.alone.p50} ms`,
        target: '≤ 2x',
      },
      detail: s,
    };
  } finally {
    for (const id of [quiet, ...noisy]) await client.call('DELETE', `/api/containers/${id}`).catch(() => undefined);
  }
}
