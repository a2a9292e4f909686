import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { AddressPolicy } from './addresses.js';

/** Every address a host name resolves to (A and AAAA). Tests inject a fake one. */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** A refused URL. `reason` is safe to show: it never contains the URL, its credentials or its query. */
export class UrlRefused extends Error {
  override name = 'UrlRefused';
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface CheckedTarget {
  url: URL;
  /** Host name without brackets or trailing dot. */
  host: string;
  port: number;
  /** The checked addresses; a connection must go to one of these and nowhere else. */
  addresses: string[];
}

/**
 * Ports a callback may use: the web ports 80 and 443, and any unprivileged port (1024-65535).
 * The other privileged ports (22, 25, 110, ...) belong to services that are not webhooks;
 * refusing them blocks cross-protocol abuse of public hosts.
 */
function portAllowed(port: number): boolean {
  return port === 80 || port === 443 || (port >= 1024 && port <= 65535);
}

/** Suffixes of names that only mean something inside a network (and metadata names). */
const INTERNAL_SUFFIXES = [
  'localhost',
  'local',
  'localdomain',
  'internal',
  'intranet',
  'lan',
  'home',
  'corp',
  'home.arpa',
  'arpa',
  'svc',
  'onion',
  'invalid',
  'test',
  'example',
];

function nameRefusal(host: string): string | undefined {
  if (!host.includes('.')) return 'host name is not fully qualified';
  const internal = INTERNAL_SUFFIXES.find((s) => host === s || host.endsWith(`.${s}`));
  return internal ? `host name is internal (.${internal})` : undefined;
}

const RESOLVE_TIMEOUT_MS = 5_000;

export class SsrfGuard {
  constructor(
    private readonly policy: AddressPolicy,
    private readonly resolve: Resolver = systemResolver,
  ) {}

  /** The checks that need no DNS: scheme, credentials, port, host syntax and literal addresses. */
  parse(raw: string): { url: URL; host: string; port: number; literal: boolean } {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UrlRefused('not a valid absolute URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UrlRefused('scheme must be http or https');
    if (url.username || url.password) throw new UrlRefused('URL must not contain credentials');
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    if (!portAllowed(port)) throw new UrlRefused('port must be 80, 443 or 1024-65535');
    const host = url.hostname
      .replace(/^\[(.*)\]$/, '$1')
      .replace(/\.$/, '')
      .toLowerCase();
    if (!host) throw new UrlRefused('URL has no host');
    const literal = isIP(host) !== 0;
    if (literal) {
      const why = this.policy.refusalFor(host);
      if (why) throw new UrlRefused(`host is a ${why}`);
    } else {
      const why = nameRefusal(host);
      if (why) throw new UrlRefused(why);
    }
    return { url, host, port, literal };
  }

  /** Parses, resolves and checks every address. Throws UrlRefused; never returns an unchecked address. */
  async check(raw: string): Promise<CheckedTarget> {
    const { url, host, port, literal } = this.parse(raw);
    if (literal) return { url, host, port, addresses: [host] };
    let addresses: string[];
    try {
      addresses = await withTimeout(this.resolve(host), RESOLVE_TIMEOUT_MS);
    } catch {
      throw new UrlRefused('host name could not be resolved');
    }
    if (addresses.length === 0) throw new UrlRefused('host name could not be resolved');
    for (const a of addresses) {
      const why = this.policy.refusalFor(a);
      if (why) throw new UrlRefused(`host name resolves to a ${why}`);
    }
    return { url, host, port, addresses };
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
