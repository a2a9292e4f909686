/**
 * The proxy's allow-list. Entries:
 * - `host`: that exact host on ports 80 and 443;
 * - `host:port`: that exact host on that port only;
 * - `*.domain`: any subdomain of `domain` (not `domain` itself) on ports 80 and 443.
 * Hosts compare case-insensitively, without a trailing dot. IPv6 hosts are written in brackets.
 */
export interface AllowEntry {
  host: string;
  /** Undefined: the web ports 80 and 443. */
  port: number | undefined;
  wildcard: boolean;
}

const WEB_PORTS = new Set([80, 443]);
const HOST_RE = /^(\[[0-9a-f:.]+\]|[a-z0-9_]([a-z0-9_-]{0,62})?(\.[a-z0-9_]([a-z0-9_-]{0,62})?)*)$/;

function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

const unbracket = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

function parseEntry(raw: string): AllowEntry {
  let rest = normalizeHost(raw);
  let port: number | undefined;
  const m = /^(.*?):(\d{1,5})$/.exec(rest);
  if (m && !(rest.startsWith('[') && !rest.includes(']:'))) {
    rest = m[1]!;
    port = Number(m[2]);
    if (port < 1 || port > 65535) throw new Error(`"${raw}" has a bad port`);
  }
  const wildcard = rest.startsWith('*.');
  const host = wildcard ? rest.slice(2) : rest;
  if (!HOST_RE.test(host)) throw new Error(`"${raw}" is not a host, host:port or *.domain`);
  return { host: unbracket(host), port, wildcard };
}

/** Parses the comma list; throws naming the first bad entry. */
export function parseAllowList(list: string): AllowEntry[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseEntry);
}

/** The allow entry for a base URL such as GITHUB_URL: its host and its port (explicit or the scheme's). */
export function entryForUrl(url: string): AllowEntry {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return { host: unbracket(normalizeHost(u.hostname)), port, wildcard: false };
}

export class AllowList {
  constructor(private readonly entries: readonly AllowEntry[]) {}

  allows(host: string, port: number): boolean {
    const h = unbracket(normalizeHost(host));
    return this.entries.some((e) => {
      const portOk = e.port === undefined ? WEB_PORTS.has(port) : e.port === port;
      const hostOk = e.wildcard ? h.endsWith(`.${e.host}`) : h === e.host;
      return portOk && hostOk;
    });
  }
}
