import type { ExecResult } from '@berth/contracts';

/** Bytes `c` takes inside a JSON string in UTF-8, as JSON.stringify writes it. */
function jsonCharBytes(c: number): number {
  if (c === 0x22 || c === 0x5c) return 2; // \" \\
  if (c < 0x20) return c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6;
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  return 3;
}

/** The longest prefix of `text` whose JSON encoding takes at most `budget` bytes (quotes excluded). */
function prefixWithin(text: string, budget: number): string {
  let used = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    const pair = c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    // A pair is one 4-byte character; a lone surrogate is written as a \u escape.
    const bytes = pair ? 4 : c >= 0xd800 && c <= 0xdfff ? 6 : jsonCharBytes(c);
    if (used + bytes > budget) return text.slice(0, i);
    used += bytes;
    if (pair) i += 1;
  }
  return text;
}

const encodedSize = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

/**
 * Output is capped per stream, but the whole reply must also fit in one NATS message (the
 * server's max_payload, 1 MiB by default), JSON escaping included. When it does not, the streams
 * share the room (a small one keeps all of its output) and what is cut is marked truncated.
 */
export function fitExecResult(result: ExecResult, maxBytes: number): ExecResult {
  if (encodedSize(result) <= maxBytes) return result;
  // Measured with `false` flags, the longer spelling, so the flags set below always fit.
  const room = Math.max(0, maxBytes - encodedSize({ ...result, stdout: '', stderr: '', stdoutTruncated: false, stderrTruncated: false, truncated: false }));
  const outSize = encodedSize(result.stdout) - 2;
  const errSize = encodedSize(result.stderr) - 2;
  const half = Math.floor(room / 2);
  const outBudget = errSize <= half ? room - errSize : outSize <= half ? outSize : half;
  const errBudget = room - Math.min(outSize, outBudget);
  const stdout = prefixWithin(result.stdout, outBudget);
  const stderr = prefixWithin(result.stderr, errBudget);
  const stdoutTruncated = result.stdoutTruncated || stdout.length < result.stdout.length;
  const stderrTruncated = result.stderrTruncated || stderr.length < result.stderr.length;
  return { ...result, stdout, stderr, stdoutTruncated, stderrTruncated, truncated: stdoutTruncated || stderrTruncated };
}
