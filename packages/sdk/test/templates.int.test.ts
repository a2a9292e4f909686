import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarOf, templateImageTag } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../../../test/support/local-stack.js';
import { removeTemplates } from '../../../test/support/template-cleanup.js';
import { Berth, BerthApiError } from '../src/index.js';
import { berthCli } from './cli.js';

// berth.templates and `berth template` against the real stack with image-builder.
const IMAGE = process.env.WORKSPACE_IMAGE ?? 'berth/workspace:latest';
const SDK_NAME = `sdk-${randomBytes(3).toString('hex')}`;
const CLI_NAME = `cli-${randomBytes(3).toString('hex')}`;
let stack: LocalStack;
let berth: Berth;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startLocalStack(
    { POOLS: JSON.stringify([{ name: 'default', targetSize: 0, maxCreating: 1, memoryMb: 128, pids: 64 }]), MAX_CONTAINERS: '4' },
    'warn',
    { imageBuilder: true },
  );
  berth = new Berth({ url: stack.url, apiKey: stack.token });
  dir = await mkdtemp(join(tmpdir(), 'berth-tpl-'));
  env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg'), BERTH_URL: stack.url, BERTH_API_KEY: stack.token };
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (stack) removeTemplates(stack.hostId, ['default'], [SDK_NAME, CLI_NAME, `${CLI_NAME}-dir`]);
}, 60_000);

describe('templates in the SDK and CLI', () => {
  test('SDK: build (output as it comes), list, get, a workspace of it, delete; a refused base throws its code', async () => {
    const seen: string[] = [];
    const result = await berth.templates.build(
      SDK_NAME,
      {
        context: tarOf([
          { name: 'Dockerfile', content: `FROM ${IMAGE}\nCOPY note /workspace/note\nRUN echo sdk-build-step` },
          { name: 'note', content: 'sdk\n' },
        ]),
      },
      { onOutput: (data, hostId) => seen.push(`${hostId}:${data}`) },
    );
    expect(result).toMatchObject({ name: SDK_NAME, failed: [], built: [{ hostId: stack.hostId, image: templateImageTag('default', SDK_NAME) }] });
    expect(seen.join('')).toContain(`${stack.hostId}:`);
    expect(seen.join('')).toContain('sdk-build-step');
    expect((await berth.templates.list()).templates.map((t) => t.name)).toContain(SDK_NAME);
    expect(await berth.templates.get(SDK_NAME)).toMatchObject({ name: SDK_NAME, hosts: [{ hostId: stack.hostId }] });

    const c = await berth.containers.create({ template: SDK_NAME, pool: false });
    expect(await c.exec('id -u; cat /workspace/note')).toMatchObject({ exitCode: 0, stdout: '1000\nsdk\n' });
    await c.delete();

    expect(await berth.templates.delete(SDK_NAME)).toEqual({ name: SDK_NAME, removed: true, hosts: [stack.hostId] });
    const gone = await berth.templates.get(SDK_NAME).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(BerthApiError);
    expect((gone as BerthApiError).code).toBe('TEMPLATE_NOT_FOUND');
    const refused = await berth.templates.build('nope', { dockerfile: 'FROM berth/busybox:latest' }).catch((e: unknown) => e);
    expect((refused as BerthApiError).code).toBe('TEMPLATE_BASE_NOT_ALLOWED');
    const failed = await berth.templates.build('nope', { dockerfile: `FROM ${IMAGE}\nRUN exit 4` }).catch((e: unknown) => e);
    expect((failed as BerthApiError).code).toBe('TEMPLATE_BUILD_FAILED');
  }, 240_000);

  test('CLI: template build -f Dockerfile --name, build from a directory, ls, create --template, rm', async () => {
    const file = join(dir, 'Dockerfile');
    await writeFile(file, `FROM ${IMAGE}\nRUN echo cli-build-step > /workspace/cli\n`);
    const built = await berthCli(['template', 'build', '-f', file, '--name', CLI_NAME], env);
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toBe(`built ${CLI_NAME} on ${stack.hostId}: ${templateImageTag('default', CLI_NAME)}\n`);
    expect(built.stderr).toContain('cli-build-step');

    const ctx = join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${IMAGE}\nCOPY hello.txt /workspace/hello.txt\n`);
    await writeFile(join(ctx, 'hello.txt'), 'from a directory\n');
    const fromDir = await berthCli(['template', 'build', '--name', `${CLI_NAME}-dir`, ctx], env);
    expect(fromDir.code, fromDir.stderr).toBe(0);

    const ls = await berthCli(['template', 'ls'], env);
    expect(ls.stdout).toMatch(new RegExp(`^NAME +HOSTS +CREATED\\n${CLI_NAME} +${stack.hostId} .*\\n${CLI_NAME}-dir +${stack.hostId} `));
    const created = await berthCli(['create', '--template', `${CLI_NAME}-dir`], env);
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.trim();
    expect(await berthCli(['exec', id, '--', 'cat', '/workspace/hello.txt'], env)).toMatchObject({ code: 0, stdout: 'from a directory\n' });
    await berthCli(['rm', id], env);

    expect(await berthCli(['template', 'rm', CLI_NAME, `${CLI_NAME}-dir`], env)).toMatchObject({ code: 0, stdout: `${CLI_NAME}\n${CLI_NAME}-dir\n` });
    const again = await berthCli(['template', 'rm', CLI_NAME], env);
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining('TEMPLATE_NOT_FOUND')]);
    const usage = await berthCli(['template', 'build', '--name', 'x'], env);
    expect(usage.code).toBe(2);
  }, 240_000);
});
