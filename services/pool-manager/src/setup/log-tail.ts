const MAX_LINES = 60;
const MAX_BYTES = 8000;

/** Things that look like credentials whoever printed them (tokens in URLs, GitHub token formats). */
const CREDENTIAL_PATTERNS = [/(https?:\/\/)[^/\s:@]+:[^/\s@]+@/g, /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g];

/** Replaces every secret (and anything credential-shaped) with `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret containing another is replaced whole.
  for (const s of [...secrets].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  out = out.replace(CREDENTIAL_PATTERNS[0]!, '$1***@');
  return out.replace(CREDENTIAL_PATTERNS[1]!, '***');
}

/** The last lines of a phase's output, scrubbed, within the status' logTail limit. */
export function logTail(text: string, secrets: readonly string[]): string {
  // eslint-disable-next-line no-control-regex
  const plain = scrub(text, secrets).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  let tail = plain.trimEnd().split('\n').slice(-MAX_LINES).join('\n');
  while (Buffer.byteLength(tail) > MAX_BYTES) tail = tail.slice(Math.ceil(tail.length / 10));
  return tail;
}
