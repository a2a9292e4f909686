import { expect, it } from 'vitest';
import { ClaimJournal, type JournaledClaim } from '../src/state/claim-journal.js';

const claim = (id: string, at: number): JournaledClaim => ({ id, ref: `ref-${id}`, requestId: `req-${id}`, owner: 'alice', name: '', at });

it('keeps the claims of the last minute, forgets a stopped one and older ones', () => {
  const j = new ClaimJournal();
  j.add(claim('a', 0));
  j.add(claim('b', 30_000));
  j.add(claim('c', 50_000));
  j.forget('b');
  expect(j.recent(55_000).map((c) => c.id)).toEqual(['a', 'c']);
  expect(j.recent(70_000).map((c) => c.id)).toEqual(['c']);
  expect(j.has('a')).toBe(false);
  // Adding prunes too, so an idle reader never lets it grow.
  j.add(claim('d', 200_000));
  expect(j.has('c')).toBe(false);
  expect(j.recent(200_000).map((c) => c.id)).toEqual(['d']);
});

it('holds at most 20 000 claims, dropping the oldest', () => {
  const j = new ClaimJournal();
  for (let i = 0; i <= 20_000; i++) j.add(claim(`w${i}`, 1_000));
  expect(j.has('w0')).toBe(false);
  expect(j.has('w1')).toBe(true);
  expect(j.recent(1_000)).toHaveLength(20_000);
});
