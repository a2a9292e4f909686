import { WorkspaceIdSchema } from '@berth/contracts';
import { describe, expect, it } from 'vitest';
import { newRequestId, newWorkspaceId, secretsEqual } from '../src/index.js';

describe('secretsEqual', () => {
  it('is true for equal secrets', () => {
    expect(secretsEqual('correct horse battery staple', 'correct horse battery staple')).toBe(true);
    expect(secretsEqual('', '')).toBe(true);
  });

  it('is false for different secrets of the same length', () => {
    expect(secretsEqual('aaaaaaaa', 'aaaaaaab')).toBe(false);
    expect(secretsEqual('baaaaaaa', 'aaaaaaaa')).toBe(false);
  });

  it('is false for different lengths, including prefixes and the empty string, without throwing', () => {
    expect(secretsEqual('secret', 'secret-and-more')).toBe(false);
    expect(secretsEqual('secret-and-more', 'secret')).toBe(false);
    expect(secretsEqual('', 'secret')).toBe(false);
    expect(secretsEqual('secret', '')).toBe(false);
  });

  it('compares unicode by content', () => {
    expect(secretsEqual('pässwörd', 'pässwörd')).toBe(true);
    expect(secretsEqual('pässwörd', 'passwörd')).toBe(false);
  });
});

describe('ids', () => {
  it('workspace ids match the contract and do not repeat', () => {
    const ids = Array.from({ length: 200 }, newWorkspaceId);
    for (const id of ids) expect(WorkspaceIdSchema.safeParse(id).success).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('request ids are long enough to be idempotency keys', () => {
    const id = newRequestId();
    expect(id).toMatch(/^req_[0-9a-f]{24}$/);
    expect(newRequestId()).not.toBe(id);
  });
});
