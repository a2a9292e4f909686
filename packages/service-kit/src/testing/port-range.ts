/** Host ports tests hand to a stack's PORT_RANGE: 20000–31999, below Linux's ephemeral ports. */
const FIRST = 20_000;
const SPAN = 12_000;
const BLOCK = 100;

/**
 * A block of `size` (≤ 100) host ports for one test's stack. Integration files run in parallel, one
 * per vitest worker: each worker draws from its own band (VITEST_POOL_ID), so two files running at
 * the same time never share a port; the block within the band is random, so a file that follows one
 * whose containers are still going away rarely lands on its ports.
 */
export function portRange(size = BLOCK, env: NodeJS.ProcessEnv = process.env): { lo: number; hi: number; spec: string } {
  if (!Number.isInteger(size) || size < 1 || size > BLOCK) throw new RangeError(`portRange size must be 1..${BLOCK}`);
  const workers = Math.max(1, Number(env.BERTH_TEST_WORKERS ?? 3) || 3);
  const worker = (Math.max(1, Number(env.VITEST_POOL_ID ?? 1) || 1) - 1) % workers;
  const band = Math.floor(SPAN / workers / BLOCK) * BLOCK;
  const lo = FIRST + worker * band + Math.floor(Math.random() * (band / BLOCK)) * BLOCK;
  const hi = lo + size - 1;
  return { lo, hi, spec: `${lo}-${hi}` };
}
