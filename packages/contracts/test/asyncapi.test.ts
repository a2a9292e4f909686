import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ASYNCAPI_CHANNELS, asyncApiText, buildAsyncApi } from '../scripts/asyncapi.js';
import { CATALOGUE_VERSION, ContainerEventSchema, EVENTS, LOGS, SetupEventSchema } from '../src/index.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const doc = buildAsyncApi() as { [k: string]: Json };

function resolvePointer(ref: string): Json | undefined {
  let node: Json | undefined = doc;
  for (const part of ref.slice(2).split('/')) {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = node[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return node;
}

function refsOf(node: Json, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const v of node) refsOf(v, found);
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') found.push(v);
      else refsOf(v, found);
    }
  return found;
}

describe('the AsyncAPI document', () => {
  it('is AsyncAPI 3 with the catalogue version, and every $ref resolves inside it', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect((doc.info as { version: string }).version).toBe(CATALOGUE_VERSION);
    const refs = refsOf(doc);
    expect(refs.length).toBeGreaterThan(6);
    for (const ref of refs) expect(resolvePointer(ref), ref).toBeDefined();
  });

  it('has a channel for every event and log subject of the contracts, whose address matches its pattern', () => {
    const patterns = Object.values(ASYNCAPI_CHANNELS)
      .map((c) => c.pattern)
      .sort();
    expect(patterns).toEqual([EVENTS.container.pattern, EVENTS.setup.pattern, EVENTS.usage.pattern, LOGS.pattern].sort());
    for (const c of Object.values(doc.channels as Record<string, { address: string; parameters: Record<string, Json>; 'x-subject-pattern': string }>)) {
      expect(c.address.replace(/\{[^}]+\}/g, '*')).toBe(c['x-subject-pattern']);
      const params = [...c.address.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect(Object.keys(c.parameters).sort()).toEqual(params.sort());
    }
  });

  it('its payload schemas accept what the contracts accept and refuse what they refuse', () => {
    const schemas = (doc.components as { schemas: Record<string, { required: string[]; properties: Record<string, Json>; additionalProperties?: Json }> })
      .schemas;
    expect(schemas.ContainerEvent?.required.sort()).toEqual(
      Object.keys(ContainerEventSchema.shape)
        .filter((k) => !ContainerEventSchema.shape[k as keyof typeof ContainerEventSchema.shape].safeParse(undefined).success)
        .sort(),
    );
    expect(Object.keys(schemas.SetupEvent?.properties ?? {}).sort()).toEqual(Object.keys(SetupEventSchema.shape).sort());
    expect(JSON.stringify(schemas)).not.toContain('$defs');
  });
});

describe('committed packages/contracts/asyncapi.json', () => {
  it('is up to date (run `pnpm asyncapi` after changing the contracts)', () => {
    expect(readFileSync(join(pkgDir, 'asyncapi.json'), 'utf8'), 'out of date: run `pnpm asyncapi` and commit packages/contracts/asyncapi.json').toBe(
      asyncApiText(),
    );
  });

  const tmp = mkdtempSync(join(tmpdir(), 'berth-asyncapi-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('the writer writes it, and --check tells drift from up to date', async () => {
    const file = join(tmp, 'asyncapi.json');
    await run(process.execPath, ['--import', 'tsx', 'scripts/write-asyncapi.ts', file], { cwd: pkgDir });
    expect(readFileSync(file, 'utf8')).toBe(asyncApiText());
    await expect(run(process.execPath, ['--import', 'tsx', 'scripts/write-asyncapi.ts', file, '--check'], { cwd: pkgDir })).resolves.toBeDefined();
    writeFileSync(file, '{}\n');
    await expect(run(process.execPath, ['--import', 'tsx', 'scripts/write-asyncapi.ts', file, '--check'], { cwd: pkgDir })).rejects.toMatchObject({ code: 1 });
  }, 30_000);
});
