import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as contracts from '../src/index.js';

const ROOT = join(import.meta.dirname, '../../..');
/** Sources that set or read engine labels; contracts' labels.ts is the one place they are spelt. */
const SCANNED = ['services', 'packages', 'test/support', 'bench/lib'];
const SOURCE = /\.(ts|cjs|mjs)$/;
const SKIP = new Set(['node_modules', 'dist', 'test']);

function sources(dir: string, top = true): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // A service's own tests are left out; test/support (shared by tests) is a scanned root itself.
    if (statSync(path).isDirectory()) return SKIP.has(name) && !(top && dir.endsWith('test')) ? [] : sources(path, false);
    return SOURCE.test(name) ? [path] : [];
  });
}

/**
 * A label key in a string: `berth.<one word>` right after a quote, ending the string or followed by
 * `=` (a filter). Subjects (`berth.container.create`) and prefixes (`berth.ticket.`) have more dots.
 */
const LABEL_LITERAL = /['"`]berth\.[a-z][a-z0-9-]*(?=['"`=])/g;
/** Comments name labels in backquotes; only code counts (a `//` inside a string cuts that line short). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

const labelKeys = (): string[] =>
  Object.entries(contracts)
    .filter(([name]) => /LABELS?$/.test(name))
    .flatMap(([, v]) => (typeof v === 'string' ? [v] : Object.values(v as Record<string, string>)));

describe('engine labels', () => {
  it('are defined in contracts only: no label literal in any other source', () => {
    const found = SCANNED.flatMap((root) => sources(join(ROOT, root)))
      .filter((file) => !file.endsWith(join('contracts', 'src', 'labels.ts')))
      .flatMap((file) => (code(readFileSync(file, 'utf8')).match(LABEL_LITERAL) ?? []).map((m) => `${relative(ROOT, file)}: ${m.slice(1)}`));
    expect(found).toEqual([]);
  });

  it('every key is berth.<word>, and no two labels share one', () => {
    const keys = labelKeys();
    for (const k of keys) expect(k).toMatch(/^berth\.[a-z][a-z0-9-]*$/);
    // Only the builder's host, which main images and copy containers share on purpose.
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([contracts.MAIN_IMAGE_LABELS.builder]);
    expect(keys).toContain(contracts.WORKLOAD_LABELS.managed);
  });
});
