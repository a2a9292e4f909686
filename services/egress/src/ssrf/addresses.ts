import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses a callback may reach. IPv4: everything but the special-purpose ranges
 * below. IPv6: only global unicast (2000::/3) minus its special ranges; IPv4-mapped
 * (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are judged by the IPv4 inside.
 */
type Range = [network: string, prefix: number];

function blocks(family: 'ipv4' | 'ipv6', ranges: Range[]): BlockList {
  const b = new BlockList();
  for (const [net, prefix] of ranges) b.addSubnet(net, prefix, family);
  return b;
}

const V4: [BlockList, string][] = [
  [
    blocks('ipv4', [
      ['169.254.169.254', 32],
      ['169.254.170.2', 32],
      ['100.100.100.200', 32],
      ['168.63.129.16', 32],
      ['192.0.0.192', 32],
    ]),
    'cloud metadata address',
  ],
  [blocks('ipv4', [['0.0.0.0', 8]]), 'unspecified address'],
  [blocks('ipv4', [['127.0.0.0', 8]]), 'loopback address'],
  [
    blocks('ipv4', [
      ['10.0.0.0', 8],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
    ]),
    'private address',
  ],
  [blocks('ipv4', [['100.64.0.0', 10]]), 'carrier-grade NAT address'],
  [blocks('ipv4', [['169.254.0.0', 16]]), 'link-local address'],
  [blocks('ipv4', [['224.0.0.0', 4]]), 'multicast address'],
  [
    blocks('ipv4', [
      ['192.0.2.0', 24],
      ['198.51.100.0', 24],
      ['203.0.113.0', 24],
    ]),
    'documentation address',
  ],
  [
    blocks('ipv4', [
      ['192.0.0.0', 24],
      ['192.88.99.0', 24],
      ['198.18.0.0', 15],
      ['240.0.0.0', 4],
    ]),
    'reserved address',
  ],
];

const V6: [BlockList, string][] = [
  [blocks('ipv6', [['fd00:ec2::254', 128]]), 'cloud metadata address'],
  [blocks('ipv6', [['::', 128]]), 'unspecified address'],
  [blocks('ipv6', [['::1', 128]]), 'loopback address'],
  [blocks('ipv6', [['fc00::', 7]]), 'private address'],
  [blocks('ipv6', [['fe80::', 10]]), 'link-local address'],
  [blocks('ipv6', [['ff00::', 8]]), 'multicast address'],
  [
    blocks('ipv6', [
      ['2001:db8::', 32],
      ['3fff::', 20],
    ]),
    'documentation address',
  ],
  // IETF protocol assignments (Teredo among them), 6to4 (can wrap any IPv4 address), SRv6 SIDs.
  [
    blocks('ipv6', [
      ['2001::', 23],
      ['2002::', 16],
      ['5f00::', 16],
    ]),
    'reserved address',
  ],
];
const GLOBAL_UNICAST = blocks('ipv6', [['2000::', 3]]);

/** The eight 16-bit groups of an IPv6 address (with or without an embedded dotted IPv4 tail). */
export function ipv6Groups(ip: string): number[] | undefined {
  let s = ip.split('%')[0]!;
  if (!isIPv6(s)) return undefined;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  const groups = [...h, ...zeros, ...t].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** The IPv4 address inside an IPv4-mapped or NAT64 (64:ff9b::/96) IPv6 address. */
export function embeddedIPv4(ip: string): string | undefined {
  const g = ipv6Groups(ip);
  if (!g) return undefined;
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  if (!mapped && !nat64) return undefined;
  return [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff].join('.');
}

/** Why `ip` must not be called, or undefined when it is a public address. Non-IP input is refused. */
export function refusalFor(ip: string): string | undefined {
  if (isIPv4(ip)) return V4.find(([b]) => b.check(ip, 'ipv4'))?.[1];
  if (!isIPv6(ip.split('%')[0]!) || ip.includes('%')) return 'not an IP address';
  const inner = embeddedIPv4(ip);
  if (inner !== undefined) return refusalFor(inner);
  const found = V6.find(([b]) => b.check(ip, 'ipv6'))?.[1];
  if (found) return found;
  return GLOBAL_UNICAST.check(ip, 'ipv6') ? undefined : 'reserved address';
}

/** The address rules plus the configured exceptions (CALLBACK_ALLOW_CIDRS, dev/test only). */
export class AddressPolicy {
  constructor(private readonly allowed: BlockList = new BlockList()) {}

  refusalFor(ip: string): string | undefined {
    const plain = embeddedIPv4(ip) ?? ip;
    const family = isIPv4(plain) ? 'ipv4' : 'ipv6';
    if ((isIPv4(plain) || isIPv6(plain)) && this.allowed.check(plain, family)) return undefined;
    return refusalFor(ip);
  }
}
