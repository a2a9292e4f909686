import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// In a child process (V8 flags are per process): a live heap of a few MB and 300 MB of 512 kB
// off-heap buffers, a window of 16 held at a time, as a file transfer allocates them.
const script = (atomic: boolean) => `
  import { PerformanceObserver, constants } from 'node:perf_hooks';
  ${atomic ? `import { markHeapAtomically } from ${JSON.stringify(resolve(import.meta.dirname, '../src/bulk-bytes-gc.ts'))}; markHeapAtomically();` : ''}
  const counts = { incremental: 0, major: 0 };
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      if (e.detail.kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) counts.incremental++;
      if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) counts.major++;
    }
  }).observe({ entryTypes: ['gc'] });
  const live = Array.from({ length: 100_000 }, (_, i) => ({ i, s: 'x' + i }));
  const window = [];
  for (let i = 0; i < 600; i++) {
    window.push(Buffer.alloc(512 * 1024, i));
    if (window.length > 16) window.shift();
    if (i % 16 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 50));
  console.log(JSON.stringify({ ...counts, live: live.length }));
`;
const run = (atomic: boolean) =>
  JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(atomic)], { encoding: 'utf8' }).trim()) as {
    incremental: number;
    major: number;
  };

describe('markHeapAtomically', () => {
  it('turns the incremental markings that off-heap buffers start into plain full GCs', () => {
    const before = run(false);
    const after = run(true);
    expect(before.incremental).toBeGreaterThan(0);
    expect(after.incremental).toBe(0);
    expect(after.major).toBeGreaterThan(0);
  });
});
