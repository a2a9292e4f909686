import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Berth } from '../../packages/sdk/src/index.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

// The dashboard end to end in headless Chromium (Debian's package) against the real stack:
// sign in, see the pools and a container, its live logs, open its terminal, type, see the echo.
// Screenshots go to test-artifacts/dashboard/.
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'dashboard');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let stack: LocalStack;
let browser: Browser;
let page: Page;
const requested: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startLocalStack({
    POOLS: JSON.stringify([{ name: 'default', targetSize: 2, maxCreating: 2, memoryMb: 64, pids: 64 }]),
    MAX_CONTAINERS: '4',
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('request', (r) => requested.push(r.url()));
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

describe('dashboard in headless Chromium', () => {
  test('a wrong key is refused; the right one shows pools and containers', async () => {
    const berth = new Berth({ url: stack.url, apiKey: stack.token });
    const c = await berth.containers.create({ name: 'dash-one' });
    await page.goto(`${stack.url}/ui/`);
    await page.fill('#api-key', 'not-the-key-0123456789');
    await page.click('button[type=submit]');
    await page.waitForSelector('#login-error:has-text("refused")');
    await shot('1-login-refused');

    await page.fill('#api-key', stack.token);
    await page.click('button[type=submit]');
    await page.waitForSelector(`#containers tr[data-id="${c.id}"]`);
    await page.waitForSelector('#pools tr[data-pool="default"]');
    expect(await page.textContent(`#containers tr[data-id="${c.id}"]`)).toContain('dash-one');
    expect(await page.isVisible('#login')).toBe(false);
    expect(await page.textContent('#pools tr[data-pool="default"]')).toMatch(/default.*64 MB/);
    // Usage per workspace: memory against the pool's 64 MB limit, and a CPU figure.
    await page.waitForSelector(`#containers tr[data-id="${c.id}"] td.mem:has-text("/ 64 MB")`);
    expect(await page.textContent(`#containers tr[data-id="${c.id}"] td.cpu`)).toMatch(/^\d+\.\d %$/);
    await shot('2-signed-in');
    // The key never went into a URL, and is not in the page.
    expect(requested.filter((u) => u.includes(stack.token))).toEqual([]);
    expect(page.url()).not.toContain(stack.token);
    expect(await page.content()).not.toContain(stack.token);

    // Live logs of the selected container.
    await page.click(`#containers tr[data-id="${c.id}"] td:first-child`); // the id cell: the ports cell holds preview buttons
    await page.waitForSelector('#detail:not([hidden])');
    await c.exec('echo dash-log-line > /proc/1/fd/1');
    await page.waitForSelector('#logs div:has-text("dash-log-line")', { timeout: 15_000 });
    await shot('3-logs');
  }, 60_000);

  test('open the terminal, type, see the echo', async () => {
    await page.click('#open-terminal');
    await page.waitForSelector('#terminal-state:has-text("connected")');
    await page.waitForSelector('#terminal .xterm-rows');
    await page.click('#terminal');
    await page.keyboard.type('echo "dash-$((6*7))"');
    await page.keyboard.press('Enter');
    // The command line shows the typed text; only the shell's output has 42.
    await page.locator('#terminal .xterm-rows').getByText('dash-42', { exact: true }).waitFor({ timeout: 15_000 });
    await shot('4-terminal');
    await page.keyboard.type('exit 4');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#terminal-state:has-text("exited 4")');
    expect(requested.filter((u) => u.includes(stack.token) || /ticket=/.test(u))).toEqual([]);
  }, 60_000);
});
