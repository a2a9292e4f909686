import { describe, expect, it } from 'vitest';
import { parseCidrs } from '../src/config.js';
import { AddressPolicy } from '../src/ssrf/addresses.js';
import { SsrfGuard, UrlRefused, type Resolver } from '../src/ssrf/guard.js';

// A fake DNS: no network. Names not listed do not resolve.
const DNS: Record<string, string[]> = {
  'hooks.example.com': ['93.184.216.34'],
  'dual.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'v6only.example.com': ['2a00:1450:4001:82b::200e'],
  'loopback.attacker.com': ['127.0.0.1'],
  'private10.attacker.com': ['10.1.2.3'],
  'private192.attacker.com': ['192.168.1.1'],
  'metadata.attacker.com': ['169.254.169.254'],
  'mixed.attacker.com': ['93.184.216.34', '10.0.0.7'], // one bad answer among good ones
  'v6loop.attacker.com': ['::1'],
  'mapped.attacker.com': ['::ffff:127.0.0.1'],
  'ula.attacker.com': ['fd12:3456:789a::1'],
  'cgnat.attacker.com': ['100.64.0.1'],
  'nat64.attacker.com': ['64:ff9b::a00:1'],
  'zero.attacker.com': ['0.0.0.0'],
  'ec2v6.attacker.com': ['fd00:ec2::254'],
  'nip.io.attacker.com': ['172.16.5.4'],
};
const resolver: Resolver = async (h) => {
  const a = DNS[h];
  if (!a) throw Object.assign(new Error(`ENOTFOUND ${h}`), { code: 'ENOTFOUND' });
  return a;
};
const guard = new SsrfGuard(new AddressPolicy(), resolver);

async function reason(url: string): Promise<string | undefined> {
  try {
    await guard.check(url);
    return undefined;
  } catch (err) {
    if (err instanceof UrlRefused) return err.reason;
    throw err;
  }
}

const REFUSED: [url: string, why: RegExp][] = [
  // loopback in every IPv4 notation the WHATWG parser accepts
  ['http://127.0.0.1/', /loopback/],
  ['http://127.0.0.1:8080/hook', /loopback/],
  ['http://2130706433/', /loopback/],
  ['http://0x7f000001/', /loopback/],
  ['http://017700000001/', /loopback/],
  ['http://0177.0.0.1/', /loopback/],
  ['http://0x7f.1/', /loopback/],
  ['http://127.1/', /loopback/],
  ['http://127.0.1/', /loopback/],
  ['http://127.255.255.254/', /loopback/],
  ['http://%31%32%37.0.0.1/', /loopback/],
  ['http://127。0。0。1/', /loopback/],
  ['http://127.0.0.1./', /loopback/],
  // unspecified
  ['http://0.0.0.0/', /unspecified/],
  ['http://0/', /unspecified/],
  ['http://[::]/', /unspecified/],
  // IPv6 loopback and wrapped IPv4
  ['http://[::1]/', /loopback/],
  ['http://[0:0:0:0:0:0:0:1]/', /loopback/],
  ['http://[::ffff:127.0.0.1]/', /loopback/],
  ['http://[::ffff:7f00:1]/', /loopback/],
  ['http://[::ffff:10.0.0.1]/', /private/],
  ['http://[::ffff:169.254.169.254]/', /metadata/],
  ['http://[64:ff9b::10.0.0.1]/', /private/],
  ['http://[64:ff9b::7f00:1]/', /loopback/],
  ['http://[::127.0.0.1]/', /reserved/], // IPv4-compatible (deprecated)
  ['http://[2002:7f00:1::]/', /reserved/], // 6to4 wrapping 127.0.0.1
  ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', /reserved/], // Teredo
  // private, CGNAT, link-local, multicast, reserved, documentation
  ['http://10.0.0.1/', /private/],
  ['http://10.255.255.255/', /private/],
  ['http://172.16.0.1/', /private/],
  ['http://172.31.255.1/', /private/],
  ['http://192.168.0.1/', /private/],
  ['http://0xc0.0xa8.1.1/', /private/],
  ['http://3232235777/', /private/], // 192.168.1.1
  ['http://100.64.0.1/', /carrier-grade/],
  ['http://100.127.255.254/', /carrier-grade/],
  ['http://169.254.0.1/', /link-local/],
  ['http://224.0.0.1/', /multicast/],
  ['http://239.255.255.250/', /multicast/],
  ['http://240.0.0.1/', /reserved/],
  ['http://255.255.255.255/', /reserved/],
  ['http://192.0.0.1/', /reserved/],
  ['http://198.18.0.1/', /reserved/],
  ['http://192.0.2.1/', /documentation/],
  ['http://[fc00::1]/', /private/],
  ['http://[fd00::1]/', /private/],
  ['http://[fe80::1]/', /link-local/],
  ['http://[febf::1]/', /link-local/],
  ['http://[ff02::1]/', /multicast/],
  ['http://[2001:db8::1]/', /documentation/],
  ['http://[100::1]/', /reserved/],
  // cloud metadata
  ['http://169.254.169.254/latest/meta-data/', /metadata/],
  ['http://[fd00:ec2::254]/', /metadata/],
  ['http://100.100.100.200/', /metadata/],
  ['http://168.63.129.16/', /metadata/],
  ['http://metadata.google.internal/computeMetadata/v1/', /internal/],
  ['http://metadata/', /not fully qualified/],
  ['http://instance-data/', /not fully qualified/],
  // internal names
  ['http://localhost/', /not fully qualified/],
  ['http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/', /not fully qualified/], // IDNA maps it to localhost
  ['http://①②⑦.0.0.1/', /loopback/],
  ['http://LOCALHOST./', /not fully qualified/],
  ['http://api.localhost/', /internal/],
  ['http://printer.local/', /internal/],
  ['http://kubernetes.default.svc/', /internal/],
  ['http://router.home.arpa/', /internal/],
  // names resolving to refused addresses (every answer is checked)
  ['https://loopback.attacker.com/', /resolves to a loopback/],
  ['https://private10.attacker.com/', /resolves to a private/],
  ['https://private192.attacker.com/', /resolves to a private/],
  ['https://metadata.attacker.com/', /resolves to a cloud metadata/],
  ['https://mixed.attacker.com/', /resolves to a private/],
  ['https://v6loop.attacker.com/', /resolves to a loopback/],
  ['https://mapped.attacker.com/', /resolves to a loopback/],
  ['https://ula.attacker.com/', /resolves to a private/],
  ['https://cgnat.attacker.com/', /resolves to a carrier-grade/],
  ['https://nat64.attacker.com/', /resolves to a private/],
  ['https://zero.attacker.com/', /resolves to a unspecified/],
  ['https://ec2v6.attacker.com/', /resolves to a cloud metadata/],
  ['https://nip.io.attacker.com/', /resolves to a private/],
  ['https://does-not-resolve.example.com/', /could not be resolved/],
  // credentials, schemes, ports, garbage
  ['https://user:pass@hooks.example.com/', /credentials/],
  ['https://token@hooks.example.com/', /credentials/],
  ['https://:pw@hooks.example.com/', /credentials/],
  ['http://hooks.example.com:80@127.0.0.1/', /credentials/],
  ['file:///etc/passwd', /scheme/],
  ['gopher://hooks.example.com:70/_HELO', /scheme/],
  ['ftp://hooks.example.com/', /scheme/],
  ['data:text/plain,hello', /scheme/],
  ['javascript:alert(1)', /scheme/],
  ['ws://hooks.example.com/', /scheme/],
  ['dict://hooks.example.com:11211/stat', /scheme/],
  ['ldap://hooks.example.com/', /scheme/],
  ['https://hooks.example.com:22/', /port/],
  ['http://hooks.example.com:25/', /port/],
  ['http://hooks.example.com:0/', /port/],
  ['not a url', /valid absolute URL/],
  ['//hooks.example.com/relative', /valid absolute URL/],
  ['', /valid absolute URL/],
];

const ALLOWED = [
  'https://hooks.example.com/berth',
  'https://hooks.example.com:8443/berth?x=1',
  'http://hooks.example.com/',
  'https://dual.example.com/',
  'https://v6only.example.com/',
  'https://93.184.216.34/hook',
  'http://8.8.8.8:8080/',
  'https://[2606:4700:4700::1111]/',
  'https://[::ffff:8.8.8.8]/', // mapped public IPv4
  'https://[64:ff9b::808:808]/', // NAT64 of a public IPv4
];

describe('SSRF guard corpus', () => {
  it('has a corpus worth the name', () => {
    expect(REFUSED.length).toBeGreaterThanOrEqual(50);
  });

  it.each(REFUSED)('refuses %s', async (url, why) => {
    const r = await reason(url);
    expect(r).toMatch(why);
    // The reason never echoes the URL, its credentials or its query.
    expect(r).not.toMatch(/pass|token|attacker|example|meta-data|HELO/);
  });

  it.each(ALLOWED)('allows %s', async (url) => {
    expect(await reason(url)).toBeUndefined();
  });

  it('returns the checked addresses, which are the ones to connect to', async () => {
    const t = await guard.check('https://dual.example.com:8443/x');
    expect(t).toMatchObject({ host: 'dual.example.com', port: 8443, addresses: DNS['dual.example.com'] });
  });

  it('CALLBACK_ALLOW_CIDRS lets exactly the listed range through', async () => {
    const dev = new SsrfGuard(new AddressPolicy(parseCidrs('127.0.0.1/32')), resolver);
    await expect(dev.check('http://127.0.0.1:9999/')).resolves.toMatchObject({ addresses: ['127.0.0.1'] });
    await expect(dev.check('http://[::ffff:127.0.0.1]:9999/')).resolves.toBeDefined();
    await expect(dev.check('http://127.0.0.2:9999/')).rejects.toThrow(/loopback/);
    await expect(dev.check('http://10.0.0.1/')).rejects.toThrow(/private/);
    await expect(dev.check('http://localhost:9999/')).rejects.toThrow(/not fully qualified/);
    await expect(dev.check('http://127.0.0.1:22/')).rejects.toThrow(/port/);
  });
});
