import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { HTTP_SCHEMAS, buildSchemaFiles } from '../scripts/json-schema.js';
import { CATALOGUE_VERSION, EVENTS, SUBJECTS } from '../src/index.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const committedDir = join(pkgDir, 'schemas');
const run = promisify(execFile);
const files = buildSchemaFiles();

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function refsOf(node: Json, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const v of node) refsOf(v, found);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') found.push(v);
      else refsOf(v, found);
    }
  }
  return found;
}

function resolvePointer(doc: Json, ref: string): Json | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: Json | undefined = doc;
  for (const part of ref.slice(2).split('/')) {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = node[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return node;
}

const schemaJson = (name: string) => JSON.parse(files.get(name) ?? 'null') as { [k: string]: Json };

describe('buildSchemaFiles', () => {
  it('has one file per HTTP body, per request and reply subject, the event and the catalogue', () => {
    const expected = [
      ...Object.keys(HTTP_SCHEMAS).map((n) => `http.${n}.schema.json`),
      ...Object.values(SUBJECTS).flatMap((e) => [`nats.${e.subject}.request.schema.json`, `nats.${e.subject}.reply.schema.json`]),
      'nats.berth.evt.container.event.schema.json',
      'nats.berth.evt.usage.llm.schema.json',
      'nats.berth.stream.ctl.schema.json',
      'nats.berth.stream.out.schema.json',
      'nats.berth.logs.batch.schema.json',
      'nats.berth.build.image.schema.json',
      'catalogue.json',
    ];
    expect([...files.keys()].sort()).toEqual(expected.sort());
  });

  it.each([...files.keys()].filter((n) => n.endsWith('.schema.json')))('%s is a JSON Schema 2020-12 whose $refs all resolve', (name) => {
    const doc = schemaJson(name);
    expect(doc.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(doc.type !== undefined || doc.$ref !== undefined || doc.anyOf !== undefined || doc.oneOf !== undefined).toBe(true);
    for (const ref of refsOf(doc)) {
      expect(resolvePointer(doc, ref), `${name}: ${ref}`).toBeDefined();
    }
  });

  it('CreateContainerBody refuses extra properties and path-like volume names in JSON Schema too', () => {
    const doc = schemaJson('http.CreateContainerBody.schema.json');
    const body = resolvePointer(doc, String(doc.$ref)) as { additionalProperties: Json; properties: { [k: string]: Json } };
    expect(body.additionalProperties).toBe(false);
    const volume = resolvePointer(doc, String((body.properties.volumeName as { $ref: string }).$ref)) as { pattern: string; minLength: number };
    const pattern = new RegExp(volume.pattern);
    for (const bad of ['/etc', '../x', 'a:b']) expect(pattern.test(bad), bad).toBe(false);
    expect(pattern.test('cache-vol')).toBe(true);
    expect(volume.minLength).toBe(2);
  });

  it('catalogue.json carries the version and every subject with its schema files', () => {
    const catalogue = JSON.parse(files.get('catalogue.json') ?? '{}') as {
      version: string;
      requests: Record<string, { subject: string; servedBy: string; request: string; reply: string }>;
      events: { stream: string; container: { subject: string; schema: string } };
    };
    expect(catalogue.version).toBe(CATALOGUE_VERSION);
    expect(Object.keys(catalogue.requests).sort()).toEqual(Object.keys(SUBJECTS).sort());
    for (const [key, entry] of Object.entries(SUBJECTS)) {
      const listed = catalogue.requests[key];
      expect(listed).toMatchObject({ subject: entry.subject, servedBy: entry.servedBy });
      expect(files.has(listed?.request ?? '')).toBe(true);
      expect(files.has(listed?.reply ?? '')).toBe(true);
    }
    expect(catalogue.events.stream).toBe(EVENTS.stream);
    expect(catalogue.events.container.subject).toBe(EVENTS.container.pattern);
    expect(files.has(catalogue.events.container.schema)).toBe(true);
  });
});

describe('committed packages/contracts/schemas/', () => {
  // Other systems read these files from the repository; a schema change without `pnpm schemas` fails here.
  const hint = 'out of date: run `pnpm schemas` and commit packages/contracts/schemas/';

  it('has exactly the files the schemas produce', () => {
    expect(readdirSync(committedDir).sort(), hint).toEqual([...files.keys()].sort());
  });

  it.each([...files.keys()])('%s is up to date', (name) => {
    expect(readFileSync(join(committedDir, name), 'utf8'), hint).toBe(files.get(name));
  });
});

describe('scripts/write-json-schema.ts', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-schemas-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const script = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'scripts/write-json-schema.ts', ...args], { cwd: pkgDir });

  it('is what `pnpm --filter @berth/contracts run schemas` runs', () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.schemas).toBe('node --import tsx scripts/write-json-schema.ts');
  });

  it('writes every file, removes stale ones, and --check tells drift from up to date', async () => {
    writeFileSync(join(tmp, 'nats.berth.gone.request.schema.json'), '{}\n');
    await script(tmp);
    expect(readdirSync(tmp).sort()).toEqual([...files.keys()].sort());
    for (const [name, content] of files) expect(readFileSync(join(tmp, name), 'utf8')).toBe(content);

    await expect(script(tmp, '--check')).resolves.toBeDefined();
    writeFileSync(join(tmp, 'catalogue.json'), '{"version":"v0"}\n');
    await expect(script(tmp, '--check')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('out of date: catalogue.json') });
  }, 30_000);
});
