import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { templateImageTag } from '@berth/service-kit';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { removeTemplates } from '../support/template-cleanup.js';

// The dashboard's templates section in headless Chromium (Debian's package) against the real stack
// with image-builder: a refused Dockerfile shows its code, a build's output shows while it builds,
// then its outcome and the template in the list; a container made from it has the template's file;
// a delete (confirmed) removes it. The key (the stack's token: owner `default`) is never in a URL.
// Screenshots go to test-artifacts/dashboard/.
const IMAGE = process.env.WORKSPACE_IMAGE ?? 'berth/workspace:latest';
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'dashboard');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const NAME = `dash-${randomBytes(3).toString('hex')}`;
const OWNER = 'default';
// The shell computes 42, so the line with 42 is the RUN step's own output, not Docker's echo of the step.
const DOCKERFILE = [`FROM ${IMAGE}`, 'RUN echo "<b>hello-from-dashboard-build-$((40+2))</b>" | tee /workspace/hello.txt && sleep 3'].join('\n');
const OUTPUT_LINE = '<b>hello-from-dashboard-build-42</b>';
let stack: LocalStack;
let browser: Browser;
let page: Page;
const requested: string[] = [];
const dialogs: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startLocalStack(
    {
      POOLS: JSON.stringify([{ name: 'default', targetSize: 0, maxCreating: 1, memoryMb: 128, pids: 64, image: IMAGE }]),
      MAX_CONTAINERS: '1',
    },
    'warn',
    { imageBuilder: true },
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1600 } });
  page.on('request', (r) => requested.push(r.url()));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.accept();
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (stack) removeTemplates(stack.hostId, [OWNER], [NAME]);
}, 60_000);

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const row = `#templates tr[data-template="${NAME}"]`;

async function submitBuild(name: string, dockerfile: string): Promise<void> {
  await page.fill('#template-name', name);
  await page.fill('#template-dockerfile', dockerfile);
  await page.click('#template-build');
}

describe('dashboard templates section in headless Chromium', () => {
  test('refusal with its code, a build streamed live then listed, a container of it, a confirmed delete', async () => {
    await page.goto(`${stack.url}/ui/`);
    await page.fill('#api-key', stack.token);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#templates-count:has-text("per host")');

    // A Dockerfile the builder refuses: a plain 400 with its code, nothing builds (the URL is never fetched).
    await submitBuild(NAME, `FROM ${IMAGE}\nADD http://127.0.0.1:9/x /x`);
    await page.waitForSelector(`#template-state:has-text("${NAME}: refused: TEMPLATE_INSTRUCTION_NOT_ALLOWED")`);
    expect(await page.locator('#template-build').isDisabled()).toBe(false);
    await shot('7-template-refused');

    await submitBuild(NAME, DOCKERFILE);
    await page.waitForSelector(`#template-output:has-text("${OUTPUT_LINE}")`, { timeout: 120_000 });
    // Live: the RUN step's line is on screen while the build still runs (its sleep 3, then berth's own stage).
    expect(await page.locator('#template-result li').count()).toBe(0);
    expect(await page.locator('#template-build').isDisabled()).toBe(true);
    expect(await page.textContent('#template-state')).toContain(`building ${NAME}`);
    // Output is text: the markup in it made no element.
    expect(await page.locator('#template-output b').count()).toBe(0);
    await shot('8-template-building');

    const image = templateImageTag(OWNER, NAME);
    await page.waitForSelector(`#template-state:has-text("${NAME}: built on ${stack.hostId}")`, { timeout: 180_000 });
    expect(await page.textContent('#template-result')).toBe(`built on ${stack.hostId}: ${image}`);
    await page.waitForSelector(row);
    const cells = await page.locator(`${row} td`).allTextContents();
    expect(cells.slice(0, 3)).toEqual([NAME, stack.hostId, image]);
    expect(Date.parse(cells[3]!)).not.toBeNaN();
    await shot('9-template-built');

    // A container of the template: the page's create flow selects it, and its file pane shows the template's file.
    await page.click(`${row} button.new-container`);
    await page.waitForSelector('#files-list li[data-path="/workspace/hello.txt"]', { timeout: 60_000 });
    await page.click('#files-list li[data-path="/workspace/hello.txt"]');
    await page.waitForSelector(`#file-view:has-text("${OUTPUT_LINE}")`);
    await shot('10-template-container');
    await page.click('#remove');
    await page.waitForSelector('#detail', { state: 'hidden' });

    // Delete, confirmed in a dialog: gone from the list and from the API.
    await page.click(`${row} button.delete`);
    await page.waitForSelector(row, { state: 'detached' });
    expect(dialogs).toEqual([expect.stringContaining(`Delete the template ${NAME}?`)]);
    const got = await fetch(`${stack.url}/api/templates/${NAME}`, { headers: { authorization: `Bearer ${stack.token}` } });
    expect(got.status).toBe(404);
    await shot('11-template-deleted');

    expect(requested.filter((u) => u.includes(stack.token))).toEqual([]);
  }, 300_000);
});
