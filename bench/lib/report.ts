import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@berth/service-kit/testing';

export interface BenchRow {
  measure: string;
  value: string;
  baseline?: string;
  target?: string;
}

function machine(): string {
  return `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}

function table(rows: BenchRow[]): string {
  const lines = ['| measure | berth | baseline (same run) | target |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.measure} | ${r.value} | ${r.baseline ?? ''} | ${r.target ?? ''} |`);
  return lines.join('\n');
}

/**
 * Prints the result as JSON and as a markdown table, writes bench/results/<name>.json and
 * replaces this benchmark's section of bench/RESULTS.md. With `mergeInto`, the figures are merged
 * into bench/results/<mergeInto>.json, keeping figures other benchmarks wrote there.
 */
export function report(name: string, figures: Record<string, number>, rows: BenchRow[], detail: unknown, opts: { mergeInto?: string } = {}): void {
  const root = repoRoot();
  const result = { date: new Date().toISOString(), machine: machine(), figures };
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  const file = join(root, 'bench', 'results', `${opts.mergeInto ?? name}.json`);
  let kept: Record<string, number> = {};
  if (opts.mergeInto) {
    try {
      kept = (JSON.parse(readFileSync(file, 'utf8')) as { figures?: Record<string, number> }).figures ?? {};
    } catch {
      /* first run */
    }
  }
  writeFileSync(file, JSON.stringify({ ...result, figures: { ...kept, ...figures } }, null, 2) + '\n');
  const md = table(rows);
  console.log(JSON.stringify({ ...result, detail }, null, 2));
  console.log(`\n${md}\n`);

  const path = join(root, 'bench', 'RESULTS.md');
  let doc = '# Benchmark results\n\nLatest run of each benchmark; baselines are measured in the same run.\n';
  try {
    doc = readFileSync(path, 'utf8');
  } catch {
    /* first run */
  }
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${start}\n## ${name}\n\n${result.date}, ${result.machine}\n\n${md}\n${end}`;
  const re = new RegExp(`${start}[\\s\\S]*?${end}`);
  doc = re.test(doc) ? doc.replace(re, section) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, doc);
}
