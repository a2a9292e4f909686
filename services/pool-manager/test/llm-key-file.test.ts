import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LLM_KEY_PATTERN } from '@berth/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { llmKeyHash, newBerthKey } from '@berth/service-kit';
import { KEY_FILE, readKeyFile, removeKeyFile, stageKeyFile, writeKeyFile } from '../src/llm/key-file.js';

let dir: string;
let outside: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llm-key-'));
  outside = mkdtempSync(join(tmpdir(), 'llm-key-outside-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('scoped LLM keys', () => {
  it('are bk_ and 32 random bytes, different every time; the hash is the hex SHA-256 of the whole key', () => {
    const a = newBerthKey();
    const b = newBerthKey();
    expect(a).toMatch(LLM_KEY_PATTERN);
    expect(Buffer.from(a.slice(3), 'base64url')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(llmKeyHash(a)).toBe(createHash('sha256').update(a).digest('hex'));
    expect(llmKeyHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("round-trip through the key file, which only pool-manager's user can read", async () => {
    const key = newBerthKey();
    await writeKeyFile(dir, key);
    expect(await readKeyFile(dir)).toBe(key);
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    const next = newBerthKey();
    await writeKeyFile(dir, next);
    expect(await readKeyFile(dir)).toBe(next);
    await removeKeyFile(dir);
    expect(await readKeyFile(dir)).toBeUndefined();
    await removeKeyFile(dir);
  });
});

describe('key file against a hostile workspace user', () => {
  it('a symlink planted at llm-key is not read through, and a write replaces the link, not its target', async () => {
    const target = join(outside, 'host-file');
    const planted = newBerthKey();
    writeFileSync(target, planted);
    symlinkSync(target, join(dir, KEY_FILE));
    expect(await readKeyFile(dir)).toBeUndefined();
    const key = newBerthKey();
    await writeKeyFile(dir, key);
    expect(readFileSync(target, 'utf8')).toBe(planted);
    expect(lstatSync(join(dir, KEY_FILE)).isSymbolicLink()).toBe(false);
    expect(await readKeyFile(dir)).toBe(key);
  });

  it('a symlink planted at the temp name makes the write fail without touching its target', async () => {
    const target = join(outside, 'host-file');
    writeFileSync(target, 'untouched');
    symlinkSync(target, join(dir, '.llm-key.guessed'));
    await expect(stageKeyFile(dir, newBerthKey(), '.llm-key.guessed')).rejects.toThrow(/EEXIST/);
    expect(readFileSync(target, 'utf8')).toBe('untouched');
    // A dangling link too: O_EXCL never creates through it.
    symlinkSync(join(outside, 'nothing-yet'), join(dir, '.llm-key.dangling'));
    await expect(stageKeyFile(dir, newBerthKey(), '.llm-key.dangling')).rejects.toThrow(/EEXIST/);
    expect(() => statSync(join(outside, 'nothing-yet'))).toThrow();
  });

  it('a staged key is not in force until committed, and a discarded one leaves nothing behind', async () => {
    const old = newBerthKey();
    await writeKeyFile(dir, old);
    const staged = await stageKeyFile(dir, newBerthKey());
    expect(await readKeyFile(dir)).toBe(old);
    await staged.discard();
    expect(execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).trim()).toBe(KEY_FILE);
  });

  it.each([
    ['not a key', 'sk-live-0123456789'],
    ['a key with junk after it', `${newBerthKey()} extra`],
    ['too short', 'bk_abc'],
    ['too large', `${newBerthKey()}\n${'x'.repeat(4096)}`],
    ['empty', ''],
  ])('bad content (%s) is ignored', async (_what, content) => {
    writeFileSync(join(dir, KEY_FILE), content, { mode: 0o600 });
    expect(await readKeyFile(dir)).toBeUndefined();
  });

  it('a FIFO planted at llm-key does not block the read', async () => {
    execFileSync('mkfifo', [join(dir, KEY_FILE)]);
    expect(await readKeyFile(dir)).toBeUndefined();
  });

  it.runIf(process.getuid?.() === 0)('a well-formed key in a file the workspace user made (not ours) is ignored', async () => {
    writeFileSync(join(dir, KEY_FILE), newBerthKey());
    chownSync(join(dir, KEY_FILE), 1000, 1000);
    expect(await readKeyFile(dir)).toBeUndefined();
  });
});
