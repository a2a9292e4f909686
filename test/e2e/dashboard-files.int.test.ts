import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Berth } from '../../packages/sdk/src/index.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

// The dashboard's file pane in headless Chromium (Debian's package) against the real stack: it
// lists /workspace, opens a text file read-only, and follows changes made around berth (docker
// exec) through the files watch, without a reload. Screenshots go to test-artifacts/dashboard/.
// FILES_TEST_IMAGE: a workspace image with this checkout's agent (see files-watch.int.test.ts).
const IMAGE = process.env.FILES_TEST_IMAGE ?? 'berth/workspace:latest';
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'dashboard');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let stack: LocalStack;
let browser: Browser;
let page: Page;
let id: string;
const requested: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startLocalStack({
    POOLS: JSON.stringify([{ name: 'default', targetSize: 1, maxCreating: 1, memoryMb: 128, pids: 64, image: IMAGE }]),
    MAX_CONTAINERS: '2',
    FILES_WATCH_INTERVAL_MS: '100',
  });
  id = (await new Berth({ url: stack.url, apiKey: stack.token }).containers.create({ name: 'dash-files' })).id;
  inWorkspace('mkdir -p /workspace/src && printf "hello <b>pane</b>\\n" > /workspace/src/hello.txt');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
  page.on('request', (r) => requested.push(r.url()));
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

function inWorkspace(cmd: string): void {
  const ref = execFileSync('docker', ['ps', '-q', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();
  execFileSync('docker', ['exec', '-u', '1000', ref, 'sh', '-c', cmd]);
}

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const entry = (path: string) => `#files-list li[data-path="${path}"]`;

describe('dashboard file pane in headless Chromium', () => {
  test('lists, opens a file read-only, and follows created, modified and deleted files', async () => {
    await page.goto(`${stack.url}/ui/`);
    await page.fill('#api-key', stack.token);
    await page.click('button[type=submit]');
    await page.click(`#containers tr[data-id="${id}"] td:first-child`);
    await page.waitForSelector('#files-path:has-text("/workspace")');
    await page.click(entry('/workspace/src'));
    await page.waitForSelector('#files-state:has-text("watching")');
    await page.click(entry('/workspace/src/hello.txt'));
    // Shown as text: the markup in the file is not HTML.
    await page.waitForSelector('#file-view:has-text("hello <b>pane</b>")');
    expect(await page.locator('#file-view b').count()).toBe(0);
    await shot('5-files');

    inWorkspace('echo new > /workspace/src/new.txt');
    await page.waitForSelector(entry('/workspace/src/new.txt'), { timeout: 10_000 });
    inWorkspace('echo changed >> /workspace/src/hello.txt');
    await page.waitForSelector('#file-view:has-text("changed")', { timeout: 10_000 });
    inWorkspace('rm /workspace/src/new.txt');
    await page.waitForSelector(entry('/workspace/src/new.txt'), { state: 'detached', timeout: 10_000 });
    await shot('6-files-followed');
    // Back up one level; the key never went into a URL.
    await page.click('#files-list li:has-text("..")');
    await page.waitForSelector(entry('/workspace/src'));
    expect(requested.filter((u) => u.includes(stack.token))).toEqual([]);
  }, 90_000);
});
