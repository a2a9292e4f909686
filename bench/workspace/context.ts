import type { LocalStack } from '../../test/support/local-stack.js';
import type { JsonClient } from '../lib/http-client.js';
import type { BenchRow } from '../lib/report.js';

/** What bench/workspace.ts gives each part: one stack, a client and a claimed workspace. */
export interface WorkspaceBenchContext {
  stack: LocalStack;
  client: JsonClient;
  /** A claimed workspace of the stack's default pool, and its engine container. */
  id: string;
  ref: string;
}

/** One part's result: its figures (names from issue 16) and rows for RESULTS.md. */
export interface PartResult {
  figures: Record<string, number>;
  rows: BenchRow[];
  detail?: unknown;
}
