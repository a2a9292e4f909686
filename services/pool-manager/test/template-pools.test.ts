import { PoolConfigSchema, TEMPLATE_LABELS } from '@berth/contracts';
import { createLogger, templateImageTag } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import { loadPoolManagerConfig } from '../src/config.js';
import { PoolImages } from '../src/pool-image.js';
import { PoolRegistry } from '../src/pools.js';

// Pools naming an owner's template (POOLS entry {template, owner}).
const env = (pools: unknown[]) => ({ NATS_URL: 'nats://127.0.0.1:4222', REDIS_URL: 'redis://127.0.0.1:6379', POOLS: JSON.stringify(pools) });
const TOOLS = { name: 'alice-tools', template: 'tools', owner: 'alice', targetSize: 1 };

describe('template pools', () => {
  it("are configured with their owner, start from the owner's template image, and never as the default pool", () => {
    const config = loadPoolManagerConfig(env([{ name: 'default' }, TOOLS]));
    expect(config.POOLS[1]).toMatchObject({ name: 'alice-tools', image: templateImageTag('alice', 'tools') });
    expect(() => PoolConfigSchema.parse({ name: 'p', template: 'tools' })).toThrow(/together/);
    expect(() => PoolConfigSchema.parse({ name: 'p', owner: 'alice' })).toThrow(/together/);
    expect(() => PoolConfigSchema.parse({ ...TOOLS, image: 'berth/workspace:latest' })).toThrow(/no image or repo/);
    expect(() => PoolConfigSchema.parse({ ...TOOLS, template: '../x' })).toThrow();
    expect(() => loadPoolManagerConfig(env([TOOLS, { name: 'default' }]))).toThrow(/default/);
  });

  it("are their owner's alone: the owner claims by pool or by template, anyone else finds no such pool", () => {
    const pools = new PoolRegistry(loadPoolManagerConfig(env([{ name: 'default' }, TOOLS])).POOLS);
    expect(pools.forCreate('alice-tools', 'alice', undefined).name).toBe('alice-tools');
    expect(pools.forCreate(undefined, 'alice', 'tools').name).toBe('alice-tools');
    expect(pools.forCreate(undefined, 'alice', 'other').name).toBe('default');
    expect(pools.forCreate(undefined, 'bob', 'tools').name).toBe('default');
    expect(() => pools.forCreate('alice-tools', 'bob', undefined)).toThrow(expect.objectContaining({ code: 'POOL_NOT_FOUND' }));
    expect(() => pools.forCreate('alice-tools', 'bob', 'tools')).toThrow(expect.objectContaining({ code: 'POOL_NOT_FOUND' }));
  });

  it("fill only once the template is on the host and its label names the pool's owner", async () => {
    const pool = loadPoolManagerConfig(env([{ name: 'default' }, TOOLS])).POOLS[1]!;
    const host: Record<string, Record<string, string>> = {};
    const images = new PoolImages({ imageLabels: (tag: string) => Promise.resolve(host[tag]) }, createLogger('test', 'silent'));
    expect(await images.imageFor(pool)).toBeUndefined();
    host[pool.image] = { [TEMPLATE_LABELS.owner]: 'mallory', [TEMPLATE_LABELS.name]: 'tools' };
    expect(await images.imageFor(pool)).toBeUndefined();
    host[pool.image] = { [TEMPLATE_LABELS.owner]: 'alice', [TEMPLATE_LABELS.name]: 'tools' };
    expect(await images.imageFor(pool)).toBe(pool.image);
  });
});
