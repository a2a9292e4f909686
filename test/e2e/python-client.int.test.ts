import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSetupFixture, type SetupFixture } from '../support/setup-fixture.js';
import { removeTemplates } from '../support/template-cleanup.js';

// The Python client (clients/python) against the real stack: gateway, pool-manager, repo-cache,
// egress (callbacks to a receiver on 127.0.0.1), image-builder (templates) and a fake GitHub. scripts/python-client installs
// it into .berth/python-venv (once; later runs only reinstall a changed client), then pytest runs
// clients/python/tests with BERTH_URL and BERTH_API_KEY pointing at this stack.
const ROOT = join(import.meta.dirname, '../..');
const PYTHON = join(ROOT, '.berth/python-venv/bin/python');
const TOKEN = `ghp_${'PyClientT0kenValue'.repeat(2)}`;
let f: SetupFixture;

beforeAll(async () => {
  execFileSync(join(ROOT, 'scripts/python-client'), { stdio: 'inherit', timeout: 240_000 });
  f = await startSetupFixture(TOKEN, { SETUP_INSTALL_TIMEOUT_MS: '20000' }, { withEgress: true, egressAllowCidrs: '127.0.0.1/32', imageBuilder: true });
}, 300_000);
afterAll(async () => {
  await f?.stop();
  // The template clients/python/tests/test_templates.py builds (owner `default`: the stack's token).
  if (f) removeTemplates(f.stack.hostId, ['default'], ['py-tmpl']);
}, 60_000);

function pytest(env: Record<string, string>): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'clients/python/tests'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PYTHONDONTWRITEBYTECODE: '1', ...env },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('close', (code) => resolve({ code, output, ms: Date.now() - started }));
  });
}

test("the Python client's pytest suite passes against the real stack", async () => {
  const r = await pytest({ BERTH_URL: f.stack.url, BERTH_API_KEY: f.stack.token, BERTH_TEST_GITHUB_TOKEN: TOKEN });
  expect(r.code, `${r.output}\n${f.stack.outputTail()}`).toBe(0);
  expect(r.output).not.toMatch(/skipped/);
  console.log(`python client tests: ${r.output.trim().split('\n').at(-1)} (${r.ms} ms)`);
  // A template build is part of the run.
}, 300_000);
