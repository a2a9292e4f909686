import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MirrorPaths, readMeta, sweepLeftovers, writeMeta } from '../src/mirror.js';

let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('mirror files', () => {
  it('lays mirrors out as <owner>/<repo>.git with temp and trash dirs beside them', () => {
    const p = new MirrorPaths('/m', 'acme/web');
    expect(p.path).toBe('/m/acme/web.git');
    expect(p.relative).toBe('acme/web.git');
    expect(p.tempPath()).toMatch(/^\/m\/\.tmp\/acme__web-[0-9a-f]{12}\.git$/);
    expect(p.tempPath()).not.toBe(p.tempPath());
    expect(p.trashPath()).toMatch(/^\/m\/\.trash\/acme__web-\d+-[0-9a-f]{8}\.git$/);
  });

  it('writes and reads the sync record; a missing or bad one reads as absent', async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-mirror-'));
    expect(await readMeta(root)).toBeUndefined();
    await writeMeta(root, { fetchedAt: 123, fence: 4, public: true });
    expect(await readMeta(root)).toEqual({ fetchedAt: 123, fence: 4, public: true });
    writeFileSync(join(root, 'berth-sync.json'), '{"fetchedAt":"x"}');
    expect(await readMeta(root)).toBeUndefined();
  });

  it('sweeps only old leftovers of crashed clones', async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-mirror-'));
    const old = join(root, '.tmp', 'a__b-old.git');
    const fresh = join(root, '.tmp', 'a__b-new.git');
    const trash = join(root, '.trash', 'a__b-1.git');
    for (const d of [old, fresh, trash]) mkdirSync(join(d, 'objects'), { recursive: true });
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(old, past, past);
    utimesSync(trash, past, past);
    expect(await sweepLeftovers(root, 600_000)).toBe(2);
    expect([existsSync(old), existsSync(fresh), existsSync(trash)]).toEqual([false, true, false]);
  });
});
