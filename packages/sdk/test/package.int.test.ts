import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LocalStack } from '../../../test/support/local-stack.js';
import { startSmallStack } from './stack.js';

// @berth/sdk as a user gets it: `npm pack` here, `npm install` of the tarball in a project outside
// the repository with an empty npm cache and --offline (so it can need nothing from a registry),
// then its `berth` bin and a program using `new Berth()` against the real stack.
const run = promisify(execFile);
const SDK_DIR = fileURLToPath(new URL('..', import.meta.url));
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
let stack: LocalStack;
let dir: string;
let app: string;
let tarball: string;

beforeAll(async () => {
  [stack, dir] = await Promise.all([startSmallStack(), mkdtemp(join(tmpdir(), 'berth-sdk-pack-'))]);
  // prepack builds dist/ first.
  await run('npm', ['pack', '--pack-destination', dir], { cwd: SDK_DIR, timeout: 240_000 });
  tarball = join(
    dir,
    (await readdir(dir)).find((f) => f.endsWith('.tgz'))!,
  );
  app = join(dir, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', join(dir, 'empty-npm-cache'), tarball], { cwd: app, timeout: 120_000 });
}, 400_000);
afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs in the outside project with nothing from this repository on its environment. */
const inApp = (file: string, args: string[], env: Record<string, string> = {}) =>
  run(file, args, { cwd: app, env: { PATH: process.env.PATH ?? '', HOME: dir, ...env }, timeout: 60_000 });

describe('@berth/sdk packed and installed with npm outside the repository', () => {
  test('the tarball has no source, no workspace-only or runtime dependency', async () => {
    const { stdout } = await run('tar', ['-xzOf', tarball, 'package/package.json']);
    const manifest = JSON.parse(stdout) as Record<string, unknown>;
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.bin).toEqual({ berth: './bin/berth.js' });
    const list = (await run('tar', ['-tzf', tarball], { maxBuffer: 16 * 1024 * 1024 })).stdout.split('\n');
    expect(list.filter((f) => f.startsWith('package/src/'))).toEqual([]);
    expect(list).toContain('package/dist/sdk/src/index.js');
    expect(list).toContain('package/dist/vendor/zod/LICENSE');
  });

  test('berth --version, and berth ls --json against the real stack', async () => {
    expect((await inApp('node_modules/.bin/berth', ['--version'])).stdout).toBe(`berth ${version}\n`);
    const ls = await inApp('node_modules/.bin/berth', ['ls', '--json'], { BERTH_URL: stack.url, BERTH_API_KEY: stack.token });
    expect(JSON.parse(ls.stdout)).toEqual([]);
  });

  test('a program using new Berth() (URL and key from the environment) claims, runs a command, deletes', async () => {
    await writeFile(
      join(app, 'main.mjs'),
      `
      import { Berth, BerthApiError } from '@berth/sdk';
      const berth = new Berth();
      const c = await berth.containers.create({ name: 'from-npm' });
      const r = await c.exec('echo hello from $((6 * 7))');
      await c.delete();
      const gone = await berth.containers.get(c.id).catch((e) => e instanceof BerthApiError ? e.code : String(e));
      console.log(JSON.stringify({ name: c.name, stdout: r.stdout, exitCode: r.exitCode, gone }));
    `,
    );
    const { stdout } = await inApp(process.execPath, ['main.mjs'], { BERTH_URL: stack.url, BERTH_API_KEY: stack.token });
    expect(JSON.parse(stdout)).toEqual({ name: 'from-npm', stdout: 'hello from 42\n', exitCode: 0, gone: 'CONTAINER_NOT_FOUND' });
  }, 60_000);

  test('its types stand alone: a strict TypeScript program type-checks without skipLibCheck, and a wrong type is caught', async () => {
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2023', strict: true, noEmit: true, skipLibCheck: false, types: [] },
        files: ['typed.ts'],
      }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    // One compile: everything must check except the one deliberate mistake on the last line.
    const source = `
      import { Berth, isApiError, type ContainerView, type ExecResult } from '@berth/sdk';
      const berth = new Berth({ retry: { attempts: 2 } });
      const view: ContainerView = (await berth.containers.create({ pool: 'default' })).toJSON();
      const name: string = view.name;
      const r: ExecResult = await berth.containers.get(view.id).then((c) => c.exec(['true']));
      export const out = [name, r.exitCode, isApiError(r, 'NAME_CONFLICT')];
      export const wrong: number = view.name;
    `;
    await writeFile(join(app, 'typed.ts'), source);
    const wrongLine = source.split('\n').findIndex((l) => l.includes('const wrong')) + 1;
    const errors = await inApp(process.execPath, [tsc, '-p', '.']).then(
      () => '',
      (e: { stdout: string }) => e.stdout,
    );
    expect(errors.trim().split('\n')).toEqual([`typed.ts(${wrongLine},20): error TS2322: Type 'string' is not assignable to type 'number'.`]);
  }, 120_000);
});
