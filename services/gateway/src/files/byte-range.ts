import type { ByteRange } from '@berth/contracts';

/**
 * One HTTP byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`); undefined for no header, several
 * ranges or a malformed one, which HTTP lets a server answer with the whole file.
 */
export function parseRange(header: string | undefined): ByteRange | undefined {
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header?.trim() ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const start = m[1] === '' ? null : Number(m[1]);
  const end = m[2] === '' ? null : Number(m[2]);
  if (start !== null && end !== null && end < start) return undefined;
  return { start, end };
}
