import { describe, expect, it } from 'vitest';
import { authorizationBlock } from '../scripts/nats-config.js';
import { CONSUMERS, EVENTS, parseNatsSubscribers, subscriberPermissions } from '../src/index.js';

const HASH = '$2b$10$rCerlh8D118cizD3uacXJef7gRMQMGBBh6ntBUzD7.3N9kTdmPxh.';
const NKEY = `U${'A'.repeat(55)}`;

describe('NATS subscribers from configuration', () => {
  it('accepts bcrypt hashes and nkeys, and defaults the durables to the name', () => {
    const subs = parseNatsSubscribers(
      JSON.stringify([
        { name: 'billing', password: HASH },
        { name: 'audit', nkey: NKEY, durables: ['audit', 'audit-logs'] },
      ]),
    );
    expect(subscriberPermissions(subs[0]!).publish).toContain('$JS.API.CONSUMER.MSG.NEXT.EVENTS.billing');
    expect(subscriberPermissions(subs[1]!).publish).toContain('$JS.API.CONSUMER.MSG.NEXT.LOGS.audit-logs');
  });

  it.each([
    ['a plaintext password', [{ name: 'billing', password: 'secret123' }], /bcrypt/],
    ['an nkey seed', [{ name: 'billing', nkey: `SU${'A'.repeat(56)}` }], /seed/],
    ['both credentials', [{ name: 'billing', password: HASH, nkey: NKEY }], /exactly one/],
    ['no credential', [{ name: 'billing' }], /exactly one/],
    ["a service's name", [{ name: 'egress', password: HASH }], /berth service/],
    ["egress's durable", [{ name: 'billing', password: HASH, durables: [CONSUMERS.egressCallbacks.durable] }], /service uses/],
    ['an image-builder durable', [{ name: 'billing', password: HASH, durables: ['image-builder-host1'] }], /service uses/],
    ['a wildcard durable', [{ name: 'billing', password: HASH, durables: ['>'] }], /durable name/],
    ['a dotted durable', [{ name: 'billing', password: HASH, durables: ['a.b'] }], /durable name/],
    [
      'a name twice',
      [
        { name: 'billing', password: HASH },
        { name: 'billing', nkey: NKEY },
      ],
      /twice/,
    ],
    [
      'one durable for two subscribers',
      [
        { name: 'billing', password: HASH },
        { name: 'audit', nkey: NKEY, durables: ['billing'] },
      ],
      /both/,
    ],
    ['an unknown field', [{ name: 'billing', password: HASH, permissions: '>' }], /unrecognized/i],
  ])('refuses %s', (_what, subs, message) => {
    expect(() => parseNatsSubscribers(JSON.stringify(subs))).toThrow(message);
  });

  it('grants its own durables on EVENTS and LOGS, core berth.evt.> and its own inbox, and nothing else', () => {
    const p = subscriberPermissions({ name: 'billing', password: HASH });
    expect(p.subscribe).toEqual([...EVENTS.subjects, '_INBOX.billing.>']);
    expect(p.allowResponses).toBe(false);
    for (const s of p.publish)
      expect(
        s === '$JS.API.INFO' ||
          /^\$JS\.(API\.(STREAM\.INFO\.(EVENTS|LOGS)|CONSUMER\.[A-Z.]+\.(EVENTS|LOGS)\.billing(\.>)?)|ACK\.(EVENTS|LOGS)\.billing\.>)$/.test(s),
        s,
      ).toBe(true);
  });

  it('writes them into the authorization block after the service users, hashes and nkeys as given', () => {
    const block = authorizationBlock(
      parseNatsSubscribers(
        JSON.stringify([
          { name: 'billing', password: HASH },
          { name: 'audit', nkey: NKEY },
        ]),
      ),
    );
    expect(block).toContain(`user: "billing"\n      password: "${HASH}"`);
    expect(block).toContain(`nkey: "${NKEY}"`);
    expect(block.indexOf('user: "egress"')).toBeLessThan(block.indexOf('user: "billing"'));
    expect(authorizationBlock()).not.toContain('billing');
  });
});
