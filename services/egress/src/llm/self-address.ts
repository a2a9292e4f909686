import { networkInterfaces } from 'node:os';

const WILDCARD = new Set(['0.0.0.0', '::']);

/**
 * Whether `host:port` names this proxy: one of its bind addresses, or, when it binds a wildcard,
 * any address of this machine's interfaces (read per call: a bridge may appear later).
 */
export function selfAddressCheck(binds: string[], proxyPort: number): (host: string, port: number) => boolean {
  const addrs = new Set(binds.map((b) => b.replace(/^\[(.*)\]$/, '$1').toLowerCase()));
  const wildcard = [...addrs].some((a) => WILDCARD.has(a));
  return (host, port) => {
    if (port !== proxyPort) return false;
    const h = host.toLowerCase();
    if (addrs.has(h) || (h === 'localhost' && addrs.has('127.0.0.1'))) return true;
    return wildcard && Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address.toLowerCase() === h));
  };
}
