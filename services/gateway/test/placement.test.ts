import { BerthError, type HostHeartbeat } from '@berth/contracts';
import { heartbeat } from './host-beats.js';
import { describe, expect, it } from 'vitest';
import { HostDirectory } from '../src/hosts/host-view.js';
import { rankHosts } from '../src/hosts/placement.js';

const warmClaim = { pool: 'default', ports: 1, warm: true };

function directory(...beats: HostHeartbeat[]): { dir: HostDirectory; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  const dir = new HostDirectory(3000, () => clock.t);
  for (const b of beats) dir.heard(b);
  return { dir, clock };
}

describe('placement', () => {
  it('spread puts each create on the least loaded host, counting what it placed since the last heartbeat', () => {
    const { dir } = directory(heartbeat('h1', { warm: 5 }), heartbeat('h2', { warm: 5 }), heartbeat('h3', { warm: 5 }));
    const chosen: string[] = [];
    for (let i = 0; i < 9; i += 1) {
      const [first] = rankHosts(dir, warmClaim, 'spread');
      chosen.push(first!);
      dir.notePlaced(first!, 'default');
    }
    expect(chosen.filter((h) => h === 'h1')).toHaveLength(3);
    expect(chosen.filter((h) => h === 'h2')).toHaveLength(3);
    expect(chosen.filter((h) => h === 'h3')).toHaveLength(3);
  });

  it('pack fills the most loaded host that still has room first', () => {
    const { dir } = directory(heartbeat('h1', { containers: 2, warm: 3 }), heartbeat('h2', { containers: 5, warm: 3 }));
    expect(rankHosts(dir, warmClaim, 'pack')).toEqual(['h2', 'h1']);
    expect(rankHosts(dir, warmClaim, 'spread')).toEqual(['h1', 'h2']);
  });

  it('a host with a warm container of the pool comes before an emptier host without one', () => {
    const { dir } = directory(heartbeat('h1', { containers: 0, warm: 0 }), heartbeat('h2', { containers: 6, warm: 1 }));
    expect(rankHosts(dir, warmClaim, 'spread')).toEqual(['h2', 'h1']);
    // once the placed create took that warm container, h1 is the better choice again
    dir.notePlaced('h2', 'default');
    expect(rankHosts(dir, warmClaim, 'spread')).toEqual(['h1', 'h2']);
    // a cold create does not care about warm containers
    expect(rankHosts(dir, { pool: 'default', ports: 1, warm: false }, 'spread')[0]).toBe('h1');
  });

  it('skips hosts at capacity or without free ports (unless a warm container waits there), draining or lost', () => {
    const { dir, clock } = directory(
      heartbeat('full', { containers: 10, max: 10 }),
      heartbeat('fullButWarm', { containers: 10, max: 10, claimed: 9, warm: 1 }),
      heartbeat('noports', { freePorts: 1 }),
      heartbeat('drained', { state: 'draining', warm: 3 }),
      heartbeat('ok'),
    );
    // Hosts that look full come last, in case room was freed since their heartbeat; draining ones never.
    expect(rankHosts(dir, { pool: 'default', ports: 2, warm: true }, 'spread')).toEqual(['fullButWarm', 'ok', 'noports', 'full']);
    expect(rankHosts(dir, { pool: 'default', ports: 2, warm: false }, 'spread')).toEqual(['ok', 'noports', 'fullButWarm', 'full']);
    clock.t += 2000;
    dir.heard(heartbeat('later'));
    clock.t += 1500; // 'ok' is 3.5 s silent: lost
    expect(dir.stateOf('ok')).toBe('lost');
    expect(rankHosts(dir, warmClaim, 'spread')).toEqual(['later']);
  });

  it('a pool no host lists still goes to a host, which answers POOL_NOT_FOUND itself', () => {
    const { dir } = directory(heartbeat('h1'), heartbeat('h2', { state: 'draining' }));
    expect(rankHosts(dir, { pool: 'nope', ports: 1, warm: true }, 'spread')).toEqual(['h1']);
  });

  it('no host up (all draining or lost) is CAPACITY_EXHAUSTED (503, retryable) with a Retry-After', () => {
    const { dir } = directory(heartbeat('h1', { state: 'draining' }), heartbeat('h2', { state: 'draining' }));
    let err: unknown;
    try {
      rankHosts(dir, warmClaim, 'spread');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).code).toBe('CAPACITY_EXHAUSTED');
    expect((err as BerthError).retryable).toBe(true);
    expect((err as BerthError).retryAfterSeconds).toBeGreaterThan(0);
  });

  it('a lost host is back with its next heartbeat, and reported lost only once per outage', () => {
    const { dir, clock } = directory(heartbeat('h1'));
    const lost: string[] = [];
    dir.onLost((id) => lost.push(id));
    clock.t += 3001;
    dir.sweep();
    dir.sweep();
    expect(lost).toEqual(['h1']);
    dir.heard(heartbeat('h1'));
    expect(dir.stateOf('h1')).toBe('up');
    clock.t += 5000;
    dir.sweep();
    expect(lost).toEqual(['h1', 'h1']);
  });
});
