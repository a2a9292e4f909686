import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, inspect } from './docker.js';
import { startDevStack, type TestStack } from './stack.js';

// The dev compose stack's hot reload (docker/dev/run.sh and runner.ts): an edit to a service's own
// source or to a package it loads restarts it in its container, a syntax error leaves the container
// running until the next edit, and each service container runs one Node process (no watcher process
// or esbuild service beside the service). The gateway, and what its /health needs.
const run = promisify(execFile);
const versionFile = join(repoRoot(), 'services', 'gateway', 'src', 'version.ts');
const packageFile = join(repoRoot(), 'packages', 'service-kit', 'src', 'health.ts');
const originals = new Map([versionFile, packageFile].map((f) => [f, readFileSync(f, 'utf8')]));
let stack: TestStack;
let gateway: string;

const health = () =>
  fetch(`${stack.url}/health`).then(
    async (r) => ((await r.json()) as { version?: string }).version ?? '',
    () => '',
  );
/** The gateway container's output, stdout and stderr. */
const logs = async () => {
  const { stdout, stderr } = await run('docker', ['logs', gateway], { maxBuffer: 16 * 1024 * 1024 });
  return stdout + stderr;
};
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the gateway said:\n${(await logs()).slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const setVersion = (expression: string) => writeFileSync(versionFile, (originals.get(versionFile) ?? '').replace('= pkg.version;', `= ${expression};`));
const count = (text: string, what: string) => text.split(what).length - 1;

beforeAll(async () => {
  stack = await startDevStack({ BERTH_STACK_SERVICES: 'nats redis pool-manager gateway', LOG_LEVEL: 'info' });
  gateway = await stack.container('gateway');
}, 180_000);

afterAll(async () => {
  for (const [file, text] of originals) writeFileSync(file, text);
  if (stack) await stack.down();
}, 120_000);

describe('dev stack hot reload', () => {
  it('runs each service as one Node process in its container', async () => {
    for (const s of ['pool-manager', 'gateway']) {
      const top = await docker('top', await stack.container(s), '-o', 'pid,args');
      // The processes whose program is node (tini and the restart loop's shell are not).
      const node = top.split('\n').filter((line) => /^\s*\d+\s+(\S*\/)?node\s/.test(line));
      expect(node, `${s}:\n${top}`).toHaveLength(1);
    }
  });

  it("serves the new code after an edit to the service's own source", async () => {
    const marker = `reload-${Date.now()}`;
    setVersion(`'${marker}'`);
    await until('the edited version to answer', async () => (await health()) === marker);
  });

  it('restarts the service after an edit to a package it loads', async () => {
    const before = await logs();
    writeFileSync(packageFile, `${originals.get(packageFile) ?? ''}\n// edited by dev-reload.int.test.ts\n`);
    await until('the gateway to restart', async () => {
      const now = await logs();
      return now.includes('packages/service-kit/src/health.ts changed') && count(now, 'gateway started') > count(before, 'gateway started');
    });
    await until('the restarted gateway to answer', async () => (await health()) !== '');
  });

  it('keeps the container through a syntax error and serves the fixed code', async () => {
    const { RestartCount: restarts } = await inspect<{ RestartCount: number }>(gateway);
    setVersion("'unterminated");
    await until('the failed load to be reported', async () => (await logs()).includes('did not load: waiting for a change'));
    const broken = await inspect<{ RestartCount: number; State: { Running: boolean } }>(gateway);
    expect(broken.State.Running).toBe(true);
    expect(broken.RestartCount).toBe(restarts);

    const marker = `fixed-${Date.now()}`;
    setVersion(`'${marker}'`);
    await until('the fixed version to answer', async () => (await health()) === marker);
    expect((await inspect<{ RestartCount: number }>(gateway)).RestartCount).toBe(restarts);
  });
});
