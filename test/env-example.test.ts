import { readFileSync } from 'node:fs';
import { egressConfigSchema } from '@berth/egress';
import { GatewayConfigSchema } from '@berth/gateway';
import { imageBuilderConfigSchema } from '@berth/image-builder';
import { logStreamerConfigSchema } from '@berth/log-streamer';
import { poolManagerConfigSchema } from '@berth/pool-manager';
import { repoCacheConfigSchema } from '@berth/repo-cache';
import { describe, expect, it } from 'vitest';

const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8').split('\n');
const bootstrap = readFileSync(new URL('../scripts/bootstrap', import.meta.url), 'utf8');
/** A service's config schema, as far as this test reads it. */
interface Field {
  safeParse(value: unknown): { success: boolean; data?: unknown };
}
const SCHEMAS: [string, { shape: Record<string, Field> }][] = [
  ['gateway', GatewayConfigSchema],
  ['pool-manager', poolManagerConfigSchema],
  ['image-builder', imageBuilderConfigSchema],
  ['repo-cache', repoCacheConfigSchema],
  ['log-streamer', logStreamerConfigSchema],
  ['egress', egressConfigSchema],
];

describe('.env.example', () => {
  it('sets nothing but the secrets scripts/bootstrap generates (defaults are comments, so a copy never freezes one)', () => {
    const secrets = new Set(/ENV_SECRETS=\(([^)]*)\)/.exec(bootstrap)![1]!.split(/\s+/).filter(Boolean));
    const set = example.filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l)).map((l) => l.split('=')[0]!);
    expect(set.length).toBeGreaterThan(0);
    for (const name of set) expect(secrets.has(name), `${name} is set in .env.example`).toBe(true);
    for (const l of example.filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))) expect(l, 'a secret with a value').toMatch(/=$/);
  });

  // `# NAME=value` shows the default; an example of a setting that has none is `# e.g. NAME=value`.
  it("shows each service's real default for the settings it reads", () => {
    let compared = 0;
    for (const line of example) {
      const m = /^# ([A-Z][A-Z0-9_]*)=(.+)$/.exec(line);
      if (!m) continue;
      const [, name, raw] = m as unknown as [string, string, string];
      const value = raw.replace(/^'(.*)'$/, '$1');
      for (const [service, schema] of SCHEMAS) {
        const field = schema.shape[name] as Field | undefined;
        if (!field) continue;
        const def = field.safeParse(undefined);
        const shown = field.safeParse(value);
        expect(shown.success, `${name}=${value} is valid for ${service}`).toBe(true);
        expect(shown.data, `${name}: .env.example shows ${value}, ${service}'s default differs`).toEqual(def.data);
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(40);
  });
});
