import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and proxy headers: never passed on in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** What a caller may not tell the workspace: berth's credentials, and addresses only the gateway sets. */
const CALLER_ONLY = new Set(['authorization', 'host', 'forwarded', 'x-real-ip', 'content-length-override']);

/** The cookie berth sets on a preview host after a share link's first visit (host form). */
export const PREVIEW_COOKIE = 'berth_preview';

export type PreviewForm = 'path' | 'host';

export interface UpstreamRequestHeadersInput {
  headers: IncomingHttpHeaders;
  form: PreviewForm;
  /** The container port the workspace listens on: Host becomes `localhost:<port>` (dev servers check it). */
  containerPort: number;
  clientIp: string;
  /** The scheme and host the caller used, for X-Forwarded-Proto/Host. */
  proto: string;
  host: string;
  /** A WebSocket upgrade keeps `Connection: upgrade` and `Upgrade: websocket`. */
  upgrade: boolean;
}

/** Names listed in a Connection header are hop-by-hop too. */
function connectionListed(headers: IncomingHttpHeaders | OutgoingHttpHeaders): Set<string> {
  const raw = headers.connection;
  const list = Array.isArray(raw) ? raw.join(',') : String(raw ?? '');
  return new Set(
    list
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
}

/**
 * The headers sent to the workspace: hop-by-hop and caller-set forwarding headers dropped, berth's
 * credentials never passed on (Authorization; on the path form every Cookie, as the API's origin
 * holds no cookie meant for a workspace; on the host form only berth's own preview cookie), Host
 * rewritten, X-Forwarded-* set by the gateway alone.
 */
export function upstreamRequestHeaders(i: UpstreamRequestHeadersInput): OutgoingHttpHeaders {
  const listed = connectionListed(i.headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(i.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || CALLER_ONLY.has(name) || listed.has(name) || name.startsWith('x-forwarded-')) continue;
    if (name === 'cookie') {
      if (i.form === 'path') continue;
      const kept = withoutBerthCookie(value);
      if (kept) out.cookie = kept;
      continue;
    }
    if (name === 'sec-websocket-protocol') {
      // A ticket offered as a subprotocol is berth's, not the workspace's.
      const kept = String(value)
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p && !p.startsWith('berth.'));
      if (kept.length > 0) out[name] = kept.join(', ');
      continue;
    }
    out[name] = value;
  }
  out.host = `localhost:${i.containerPort}`;
  out['x-forwarded-for'] = i.clientIp;
  out['x-forwarded-proto'] = i.proto;
  out['x-forwarded-host'] = i.host;
  if (i.upgrade) {
    out.connection = 'upgrade';
    out.upgrade = 'websocket';
  }
  return out;
}

function withoutBerthCookie(value: string | string[]): string {
  return [value]
    .flat()
    .join('; ')
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c && c.split('=')[0]?.trim() !== PREVIEW_COOKIE)
    .join('; ');
}

/**
 * Content-Security-Policy for the path form: the page runs as an opaque origin (`sandbox` without
 * allow-same-origin), so a workspace's script can read neither the dashboard's storage nor the
 * API's cookies, and cannot call the API as the dashboard. Scripts, forms, popups still work.
 */
const PATH_FORM_CSP = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads';

/** Response headers a workspace may not set on berth's origin (path form) or on the preview domain. */
const NEVER_FROM_WORKSPACE = new Set(['clear-site-data', 'strict-transport-security', 'alt-svc']);

/**
 * The workspace's response headers for the caller. Path form: no Set-Cookie at all (it would land
 * on the API's origin) and a sandbox CSP. Host form: cookies stay host-only (a Domain attribute
 * would reach every workspace under the preview domain) and berth's own cookie cannot be set.
 */
export function downstreamResponseHeaders(headers: IncomingHttpHeaders, form: PreviewForm, upgrade = false): OutgoingHttpHeaders {
  const listed = connectionListed(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || NEVER_FROM_WORKSPACE.has(name)) continue;
    if (name === 'set-cookie') {
      if (form === 'path') continue;
      const kept = [value]
        .flat()
        .filter((c) => c.split('=')[0]?.trim() !== PREVIEW_COOKIE)
        .map(hostOnlyCookie);
      if (kept.length > 0) out[name] = kept;
      continue;
    }
    if (name === 'content-security-policy' && form === 'path') continue;
    out[name] = value;
  }
  if (form === 'path') out['content-security-policy'] = PATH_FORM_CSP;
  if (upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = 'websocket';
  }
  return out;
}

function hostOnlyCookie(cookie: string): string {
  return cookie
    .split(';')
    .filter((attr, i) => i === 0 || !/^\s*domain\s*=/i.test(attr))
    .join(';');
}
