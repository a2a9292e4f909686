import type { ExecResult } from '@berth/contracts';

/** Bytes `c` takes inside a JSON string in UTF-8, as JSON.stringify writes it. */
function jsonCharBytes(c: number): number {
  if (c === 0x22 || c === 0x5c) return 2; // \" \\
  if (c < 0x20) return c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6;
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  return 3;
}

/**
 * Scans `text` as JSON.stringify writes it in UTF-8 (quotes excluded) while it fits in `budget`
 * bytes: where it stopped (`text.length` when all of it fits) and the bytes used. Stops at the
 * budget, so a huge output costs no more than the room it can have.
 */
function scan(text: string, budget: number): { end: number; bytes: number } {
  let used = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    const pair = c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    // A pair is one 4-byte character; a lone surrogate is written as a \u escape.
    const bytes = pair ? 4 : c >= 0xd800 && c <= 0xdfff ? 6 : jsonCharBytes(c);
    if (used + bytes > budget) return { end: i, bytes: used };
    used += bytes;
    if (pair) i += 1;
  }
  return { end: text.length, bytes: used };
}

const encodedSize = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

/**
 * Output is capped per stream, but the whole reply must also fit in one NATS message (the
 * server's max_payload, 1 MiB by default), JSON escaping included. When it does not, the streams
 * share the room (a small one keeps all of its output) and what is cut is marked truncated.
 * Linear in the room, not in the output (no full JSON encoding of a megabyte of NULs).
 */
export function fitExecResult(result: ExecResult, maxBytes: number): ExecResult {
  // Measured with `false` flags, the longer spelling, so the flags set below always fit.
  const room = Math.max(0, maxBytes - encodedSize({ ...result, stdout: '', stderr: '', stdoutTruncated: false, stderrTruncated: false, truncated: false }));
  const out = scan(result.stdout, room);
  const err = scan(result.stderr, room);
  const outWhole = out.end === result.stdout.length;
  const errWhole = err.end === result.stderr.length;
  if (outWhole && errWhole && out.bytes + err.bytes <= room) return result;
  // A stream cut by the scan needs more than the whole room.
  const outSize = outWhole ? out.bytes : room + 1;
  const errSize = errWhole ? err.bytes : room + 1;
  const half = Math.floor(room / 2);
  const outBudget = errSize <= half ? room - errSize : outSize <= half ? outSize : half;
  const errBudget = room - Math.min(outSize, outBudget);
  const stdout = result.stdout.slice(0, scan(result.stdout, outBudget).end);
  const stderr = result.stderr.slice(0, scan(result.stderr, errBudget).end);
  const stdoutTruncated = result.stdoutTruncated || stdout.length < result.stdout.length;
  const stderrTruncated = result.stderrTruncated || stderr.length < result.stderr.length;
  return { ...result, stdout, stderr, stdoutTruncated, stderrTruncated, truncated: stdoutTruncated || stderrTruncated };
}
