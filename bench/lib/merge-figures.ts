import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '@berth/service-kit/testing';

/**
 * Adds `figures` to bench/results/<file>.json, keeping every figure other benchmarks wrote there
 * (several benchmarks share one results file).
 */
export function mergeFigures(file: string, figures: Record<string, number>): void {
  const path = join(repoRoot(), 'bench', 'results', `${file}.json`);
  const existing = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { figures?: Record<string, number> } & Record<string, unknown>) : {};
  const merged = { ...existing, date: new Date().toISOString(), figures: { ...existing.figures, ...figures } };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(merged, null, 2) + '\n');
}
