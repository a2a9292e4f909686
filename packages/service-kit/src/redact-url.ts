/** Query parameter names whose values are credentials: token, ticket, key, secret, signature and their kin. */
const CREDENTIAL_NAME = /token|ticket|key|secret|sig|passw|pwd|auth|credential|session|cookie|code/i;

const REDACTED = '[redacted]';

function decodedName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    // A malformed escape: judge by the raw text, which still spells the name for a matching test.
    return raw;
  }
}

/**
 * Path segments that are credentials: a preview share link's secret (`/preview/s/<secret>/…`).
 * Matched case-insensitively and with the slashes or `s` percent-encoded too, as a router may
 * still route such a spelling.
 */
const SECRET_PATH = /(\/|%2f)preview(\/|%2f)(s|%73)(\/|%2f)[^/?#]*/gi;

function redactSecretPaths(base: string): string {
  return base.replace(SECRET_PATH, (_m, a: string, b: string, s: string, c: string) => `${a}preview${b}${s}${c}${REDACTED}`);
}

/**
 * A URL (absolute or a request target such as `/api/x?ticket=…`) fit for a log line: every query
 * value whose name looks like a credential, and any user:password before the host, is replaced by
 * `[redacted]`. Everything else keeps its exact spelling. Names are judged decoded, so `%74oken`
 * and `access_token` are caught too.
 */
export function redactUrl(url: string): string {
  const hash = url.indexOf('#');
  const beforeHash = hash === -1 ? url : url.slice(0, hash);
  const q = beforeHash.indexOf('?');
  const base = redactSecretPaths(redactUserinfo(q === -1 ? beforeHash : beforeHash.slice(0, q)));
  // A fragment never reaches a server; if one is in a logged URL it is dropped rather than judged.
  if (q === -1) return base;
  const query = beforeHash
    .slice(q + 1)
    .split(/([&;])/)
    .map((part, i) => {
      if (i % 2 === 1) return part; // a separator
      const eq = part.indexOf('=');
      const name = eq === -1 ? part : part.slice(0, eq);
      return eq !== -1 && CREDENTIAL_NAME.test(decodedName(name)) ? `${name}=${REDACTED}` : part;
    })
    .join('');
  return `${base}?${query}`;
}

function redactUserinfo(base: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(base);
  if (!scheme) return base;
  const rest = base.slice(scheme[0].length);
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const at = authority.lastIndexOf('@');
  if (at === -1) return base;
  return `${scheme[0]}${REDACTED}@${authority.slice(at + 1)}${slash === -1 ? '' : rest.slice(slash)}`;
}
