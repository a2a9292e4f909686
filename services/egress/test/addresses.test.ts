import { describe, expect, it } from 'vitest';
import { parseCidrs } from '../src/config.js';
import { AddressPolicy, embeddedIPv4, ipv6Groups, refusalFor } from '../src/ssrf/addresses.js';

describe('IP address rules', () => {
  it('expands IPv6 in every spelling', () => {
    expect(ipv6Groups('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('fe80::')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('::ffff:127.0.0.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
    expect(ipv6Groups('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ipv6Groups('127.0.0.1')).toBeUndefined();
  });

  it('finds the IPv4 inside mapped and NAT64 addresses only', () => {
    expect(embeddedIPv4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(embeddedIPv4('0:0:0:0:0:ffff:a00:1')).toBe('10.0.0.1');
    expect(embeddedIPv4('64:ff9b::c0a8:101')).toBe('192.168.1.1');
    expect(embeddedIPv4('2001:db8::7f00:1')).toBeUndefined();
    expect(embeddedIPv4('::7f00:1')).toBeUndefined();
  });

  it('allows public addresses and refuses the edges of special ranges', () => {
    expect(refusalFor('1.1.1.1')).toBeUndefined();
    expect(refusalFor('172.15.255.255')).toBeUndefined();
    expect(refusalFor('172.32.0.0')).toBeUndefined();
    expect(refusalFor('100.63.255.255')).toBeUndefined();
    expect(refusalFor('100.128.0.0')).toBeUndefined();
    expect(refusalFor('172.16.0.0')).toBe('private address');
    expect(refusalFor('100.64.0.0')).toBe('carrier-grade NAT address');
    expect(refusalFor('2a00:1450::1')).toBeUndefined();
    expect(refusalFor('4000::1')).toBe('reserved address'); // outside 2000::/3
    expect(refusalFor('fe80::1%eth0')).toBe('not an IP address');
    expect(refusalFor('example.com')).toBe('not an IP address');
  });

  it('a configured range is allowed, in either spelling, and nothing else', () => {
    const p = new AddressPolicy(parseCidrs('127.0.0.1/32, fd00:1::/64'));
    expect(p.refusalFor('127.0.0.1')).toBeUndefined();
    expect(p.refusalFor('::ffff:127.0.0.1')).toBeUndefined();
    expect(p.refusalFor('fd00:1::5')).toBeUndefined();
    expect(p.refusalFor('127.0.0.2')).toBe('loopback address');
    expect(p.refusalFor('fd00:2::5')).toBe('private address');
  });

  it('rejects a bad CIDR list', () => {
    expect(() => parseCidrs('127.0.0.1')).toThrow(/CIDR/);
    expect(() => parseCidrs('10.0.0.0/33')).toThrow(/CIDR/);
    expect(() => parseCidrs('banana/8')).toThrow(/CIDR/);
  });
});
