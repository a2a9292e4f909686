import { operationsOf, resolver } from './openapi.js';
import { checkResponse, type FuzzResponse } from './check.js';
import type { Rng } from './prng.js';
import { describeRequest, generateRequest, type FuzzContext, type FuzzRequest } from './requests.js';

export interface FuzzOptions extends Omit<FuzzContext, 'resolve'> {
  doc: unknown;
  rng: Rng;
  count: number;
  send: (req: FuzzRequest) => Promise<FuzzResponse>;
  /** Values no response may contain (the API token at least). */
  secrets: readonly string[];
  allow5xx?: readonly string[];
  /** Called after each request, e.g. to clean up what a valid request created. */
  after?: (req: FuzzRequest, res: FuzzResponse) => Promise<void>;
}

export interface FuzzReport {
  seed: number;
  sent: number;
  byStatus: Record<number, number>;
  failures: string[];
  errorBodies: string[];
  ms: number;
}

/** Sends `count` generated requests round-robin over every documented operation and checks each answer. */
export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const ops = operationsOf(opts.doc);
  const ctx: FuzzContext = { ...opts, resolve: resolver(opts.doc) };
  const report: FuzzReport = { seed: opts.rng.seed, sent: 0, byStatus: {}, failures: [], errorBodies: [], ms: 0 };
  for (let i = 0; i < opts.count; i++) {
    const op = ops[i % ops.length]!;
    const req = generateRequest(op, opts.rng, ctx);
    let res: FuzzResponse;
    try {
      res = await opts.send(req);
    } catch (err) {
      report.failures.push(`#${i} ${describeRequest(req)}: request failed: ${String(err)}`);
      continue;
    }
    report.sent += 1;
    report.byStatus[res.status] = (report.byStatus[res.status] ?? 0) + 1;
    if (res.status >= 400) report.errorBodies.push(res.body);
    const problems = checkResponse(req.method, res, opts);
    if (problems.length > 0 && report.failures.length < 20) {
      report.failures.push(`#${i} ${describeRequest(req)} → ${res.status}: ${problems.join('; ')}: ${res.body.slice(0, 300)}`);
    }
    await opts.after?.(req, res);
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

export function summary(name: string, r: FuzzReport): string {
  return `[fuzz] ${name}: seed=${r.seed} (replay with FUZZ_SEED=${r.seed}) sent=${r.sent} in ${r.ms} ms, statuses ${JSON.stringify(r.byStatus)}`;
}
