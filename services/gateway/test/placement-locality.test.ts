import type { HostHeartbeat } from '@berth/contracts';
import { describe, expect, it } from 'vitest';
import { hostRoutedBackend } from '../src/hosts/host-backend.js';
import { HostDirectory } from '../src/hosts/host-view.js';
import { rankHosts } from '../src/hosts/placement.js';
import { FakeBackend, containerView } from './helpers.js';
import { heartbeat } from './host-beats.js';

const withRepos = (hb: HostHeartbeat, repos: string[]): HostHeartbeat => ({ ...hb, repos });

function directory(...beats: HostHeartbeat[]): HostDirectory {
  const dir = new HostDirectory(3000, () => 1_000_000);
  for (const b of beats) dir.heard(b);
  return dir;
}

describe('placement prefers hosts that hold the repo of a create', () => {
  const busyWithRepo = withRepos(heartbeat('h1', { containers: 6, warm: 0 }), ['acme/web']);
  const idleWarm = heartbeat('h2', { containers: 0, warm: 3 });
  const otherRepo = withRepos(heartbeat('h3', { containers: 0, warm: 0 }), ['acme/api']);

  it('a host with the repo comes first, before emptier hosts and hosts with a warm container, under either policy', () => {
    const dir = directory(busyWithRepo, idleWarm, otherRepo);
    const req = { pool: 'default', ports: 1, warm: true, repo: 'acme/web' };
    expect(rankHosts(dir, req, 'spread')).toEqual(['h1', 'h2', 'h3']);
    expect(rankHosts(dir, req, 'pack')[0]).toBe('h1');
    // without a repo, or with a repo no host holds, the policy and warm containers decide as before
    expect(rankHosts(dir, { pool: 'default', ports: 1, warm: true }, 'spread')).toEqual(['h2', 'h3', 'h1']);
    expect(rankHosts(dir, { ...req, repo: 'acme/none' }, 'spread')).toEqual(['h2', 'h3', 'h1']);
  });

  it('among hosts holding the repo, the policy decides; a full one is still skipped', () => {
    const dir = directory(
      withRepos(heartbeat('a', { containers: 5, warm: 0 }), ['acme/web']),
      withRepos(heartbeat('b', { containers: 2, warm: 0 }), ['acme/web']),
      withRepos(heartbeat('full', { containers: 10, max: 10 }), ['acme/web']),
      heartbeat('c', { containers: 0, warm: 0 }),
    );
    const req = { pool: 'default', ports: 1, warm: true, repo: 'acme/web' };
    expect(rankHosts(dir, req, 'spread')).toEqual(['b', 'a', 'c', 'full']);
    expect(rankHosts(dir, req, 'pack')).toEqual(['a', 'b', 'c', 'full']);
  });

  it("the gateway places a create body's repo by it", async () => {
    const dir = directory(busyWithRepo, idleWarm);
    const fake = new FakeBackend({ containerCreate: (_d, opts) => ({ ...containerView(`ws_${opts!.hostId!}_0123456789abcdef`), warm: false }) });
    const backend = hostRoutedBackend(fake, { directory: dir, policy: 'spread', fallbackHost: 'local' });
    await backend.request('containerCreate', { pool: 'default', repo: 'acme/web', requestId: 'req-0123456789', owner: 'alice' });
    await backend.request('containerCreate', { pool: 'default', requestId: 'req-9876543210', owner: 'alice' });
    expect(fake.callsTo('containerCreate').map((c) => c.opts?.hostId)).toEqual(['h1', 'h2']);
  });
});
