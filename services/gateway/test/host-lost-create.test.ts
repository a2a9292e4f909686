import { BerthError, type ContainerView } from '@berth/contracts';
import { describe, expect, it } from 'vitest';
import { hostRoutedBackend } from '../src/hosts/host-backend.js';
import { HostDirectory } from '../src/hosts/host-view.js';
import { FakeBackend, containerView } from './helpers.js';
import { heartbeat } from './host-beats.js';

// A create in flight to a host that goes lost: not left waiting for the request's timeout.
function twoHosts() {
  const clock = { t: 1_000_000 };
  const directory = new HostDirectory(3000, () => clock.t);
  // h1 is the emptier host: placement picks it first; it never answers (its machine died).
  directory.heard(heartbeat('h1', { containers: 0, warm: 2 }));
  directory.heard(heartbeat('h2', { containers: 3, warm: 2 }));
  const fake = new FakeBackend({
    containerCreate: (_d, opts) =>
      opts!.hostId === 'h1' ? new Promise<never>(() => undefined) : { ...containerView(`ws_${opts!.hostId!}_0123456789abcdef`), warm: true },
  });
  const backend = hostRoutedBackend(fake, { directory, policy: 'spread', fallbackHost: 'local' });
  /** h1 goes silent: h2 keeps beating, the clock passes the limit and the sweep runs. */
  const loseH1 = () => {
    clock.t += 3001;
    directory.heard(heartbeat('h2', { containers: 3, warm: 2 }));
    directory.sweep();
  };
  return { backend, fake, loseH1 };
}

const caller = { owner: 'alice' };
const base = { pool: 'default', requestId: 'req-0123456789', ...caller } as const;

describe('a create in flight when its host is lost', () => {
  it('an anonymous workspace is made on another host as soon as the host is counted lost', async () => {
    const { backend, fake, loseH1 } = twoHosts();
    const pending = backend.request('containerCreate', { ...base });
    await new Promise((r) => setImmediate(r));
    expect(fake.callsTo('containerCreate').map((c) => c.opts?.hostId)).toEqual(['h1']);
    loseH1();
    const made = (await pending) as ContainerView;
    expect(made.id).toBe('ws_h2_0123456789abcdef');
    expect(fake.callsTo('containerCreate').map((c) => c.opts?.hostId)).toEqual(['h1', 'h2']);
  });

  it('a named workspace is answered HOST_UNAVAILABLE (retryable), not made twice', async () => {
    const { backend, fake, loseH1 } = twoHosts();
    const pending = backend.request('containerCreate', { ...base, name: 'mine' });
    await new Promise((r) => setImmediate(r));
    loseH1();
    const err = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BerthError);
    expect(err).toMatchObject({ code: 'HOST_UNAVAILABLE' });
    expect(fake.callsTo('containerCreate')).toHaveLength(1);
  });
});
