import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { workspaceNameKey } from '../src/driver/name-key.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'berth-name-key-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the workspace name key', () => {
  test('WORKSPACE_NAME_KEY wins', async () => {
    expect(await workspaceNameKey('k'.repeat(40), fresh(), 'h1')).toBe('k'.repeat(40));
  });

  test('without it: made once, kept private and durable, the same for every start (also concurrent ones)', async () => {
    const dir = fresh();
    const keys = await Promise.all([1, 2, 3, 4].map(() => workspaceNameKey(undefined, dir, 'h1')));
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, 'h1', 'name-key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'h1')).mode & 0o777).toBe(0o700);
    expect(await workspaceNameKey(undefined, dir, 'h1')).toBe(keys[0]);
    expect(await workspaceNameKey(undefined, dir, 'h2')).not.toBe(keys[0]);
  });

  test('refuses a key file others could read or swap', async () => {
    const dir = fresh();
    await workspaceNameKey(undefined, dir, 'h1');
    chmodSync(join(dir, 'h1', 'name-key'), 0o644);
    await expect(workspaceNameKey(undefined, dir, 'h1')).rejects.toThrow(/mode 0600/);
    mkdirSync(join(dir, 'h2'), { mode: 0o700 });
    writeFileSync(join(dir, 'elsewhere'), 'x'.repeat(64), { mode: 0o600 });
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'h2', 'name-key'));
    await expect(workspaceNameKey(undefined, dir, 'h2')).rejects.toThrow(/ELOOP|symbolic/);
    mkdirSync(join(dir, 'h3'), { mode: 0o755 });
    chmodSync(join(dir, 'h3'), 0o755);
    await expect(workspaceNameKey(undefined, dir, 'h3')).rejects.toThrow(/mode 0700/);
  });
});
