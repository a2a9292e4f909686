import { PoolConfigSchema, type PoolConfig } from '@berth/contracts';
import { createLogger } from '@berth/service-kit';
import { expect, test } from 'vitest';
import { PoolImages, runsRepoPoolImage } from '../src/pool-image.js';

const logger = createLogger('test', 'silent');
const pool = (extra: Record<string, unknown>): PoolConfig => ({ ...PoolConfigSchema.parse({ name: 'p', ...extra }), image: 'berth/workspace:latest' });
/** Images on a fake host: tag → labels. */
const driver = (images: Record<string, Record<string, string>>) => ({ imageLabels: (tag: string) => Promise.resolve(images[tag]) });

test('a pool without a repo fills from its own image', async () => {
  const images = new PoolImages(driver({ 'berth/acme-web:main': { 'berth.repo': 'acme/web' } }), logger);
  expect(await images.imageFor(pool({}))).toBe('berth/workspace:latest');
});

test('a repo pool fills from the main image only when it exists and is labelled with that repo', async () => {
  const repoPool = pool({ repo: 'acme/web' });
  const host: Record<string, Record<string, string>> = {};
  const images = new PoolImages(driver(host), logger);
  expect(await images.imageFor(repoPool)).toBe('berth/workspace:latest');
  // The tag exists but belongs to another repo (names can share a tag, as a/b-c and a-b/c do).
  host['berth/acme-web:main'] = { 'berth.repo': 'acme-web/other' };
  expect(await images.imageFor(repoPool)).toBe('berth/workspace:latest');
  host['berth/acme-web:main'] = { 'berth.repo': 'Acme/Web', 'berth.sha': 'a'.repeat(40) };
  expect(await images.imageFor(repoPool)).toBe('berth/acme-web:main');
});

test('a repo pool still fills when the engine cannot be asked about the main image', async () => {
  const images = new PoolImages({ imageLabels: () => Promise.reject(new Error('engine down')) }, logger);
  expect(await images.imageFor(pool({ repo: 'acme/web' }))).toBe('berth/workspace:latest');
});

test('only a workspace of a pool naming that repo, running its main image, counts as a repo-pool workspace', () => {
  const repoPool = pool({ repo: 'acme/web' });
  expect(runsRepoPoolImage(repoPool, 'berth/acme-web:main', 'acme/web')).toBe(true);
  expect(runsRepoPoolImage(repoPool, 'berth/acme-web:main', 'ACME/web')).toBe(true);
  expect(runsRepoPoolImage(repoPool, 'berth/workspace:latest', 'acme/web')).toBe(false);
  expect(runsRepoPoolImage(repoPool, 'berth/acme-web:main', 'acme/other')).toBe(false);
  expect(runsRepoPoolImage(pool({}), 'berth/acme-web:main', 'acme/web')).toBe(false);
  expect(runsRepoPoolImage(undefined, 'berth/acme-web:main', 'acme/web')).toBe(false);
});

test('POOLS refuses a repo that is not owner/repo', () => {
  expect(() => PoolConfigSchema.parse({ name: 'p', repo: 'acme/../x' })).toThrow();
  expect(() => PoolConfigSchema.parse({ name: 'p', repo: 'acme' })).toThrow();
});
