import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { isClaimMarked, WorkloadNames } from '../src/driver/workload-names.js';

const KEY = randomBytes(32).toString('hex');
const names = new WorkloadNames(KEY);
const ID = 'ws_0123456789abcdef';
const OWNER = 'acme-team';
const hex = (s: string) => Buffer.from(s).toString('hex');
// Docker's container name rule.
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

describe('workspace names', () => {
  test('name neither the id nor the owner, and are valid Docker names', () => {
    for (const name of [names.warm(ID), names.claimed(ID, OWNER)]) {
      expect(name).toMatch(DOCKER_NAME);
      for (const secret of [ID, ID.slice(3), OWNER, hex(OWNER)]) expect(name.toLowerCase()).not.toContain(secret.toLowerCase());
    }
    expect(isClaimMarked(names.claimed(ID, OWNER))).toBe(true);
    expect(isClaimMarked(names.warm(ID))).toBe(false);
  });

  test('are deterministic per key, and differ between workspaces of one owner and between keys', () => {
    expect(names.claimed(ID, OWNER)).toBe(new WorkloadNames(KEY).claimed(ID, OWNER));
    expect(names.warm(ID)).toBe(new WorkloadNames(KEY).warm(ID));
    expect(names.claimed('ws_0123456789abcdee', OWNER)).not.toBe(names.claimed(ID, OWNER));
    expect(new WorkloadNames(randomBytes(32).toString('hex')).claimed(ID, OWNER)).not.toBe(names.claimed(ID, OWNER));
  });

  test('a claim marker gives its owner back, with the key, for its own workspace only', () => {
    for (const owner of [OWNER, 'ö∂ü owner with spaces and \u0000 nul', 'x'.repeat(100)]) {
      expect(names.ownerOf(`/${names.claimed(ID, owner)}`, ID)).toBe(owner);
    }
    const marker = names.claimed(ID, OWNER);
    expect(names.ownerOf(marker, 'ws_0123456789abcdee')).toBeUndefined();
    expect(new WorkloadNames(randomBytes(32).toString('hex')).ownerOf(marker, ID)).toBeUndefined();
    expect(names.ownerOf(names.warm(ID), ID)).toBeUndefined();
  });

  test('a tampered marker is refused, never read as someone else', () => {
    const marker = names.claimed(ID, OWNER);
    const body = marker.slice('berth-'.length, -'-claimed'.length);
    for (let i = 0; i < body.length; i += 7) {
      const flipped = body.slice(0, i) + (body[i] === 'A' ? 'B' : 'A') + body.slice(i + 1);
      expect(names.ownerOf(`berth-${flipped}-claimed`, ID)).toBeUndefined();
    }
    expect(names.ownerOf('berth-short-claimed', ID)).toBeUndefined();
  });

  test('reads the older, clear-text marker of the same workspace (renamed by reconcile)', () => {
    expect(names.ownerOf(`berth-${ID}-o${hex(OWNER)}-claimed`, ID)).toBe(OWNER);
    expect(names.ownerOf(`berth-ws_ffffffffffffffff-o${hex(OWNER)}-claimed`, ID)).toBeUndefined();
    expect(names.ownerOf(`berth-${ID}-claimed`, ID)).toBeUndefined();
  });

  test('refuses a short key', () => {
    expect(() => new WorkloadNames('short')).toThrow(/at least 32/);
  });
});
