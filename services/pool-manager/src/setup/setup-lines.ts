import { StringDecoder } from 'node:string_decoder';
import { SETUP_LINE_CUT_MARK, SETUP_LINE_MAX_BYTES } from '@berth/contracts';
import { scrub } from './log-tail.js';

/**
 * A line without a newline is held up to this many characters, then shown cut and the rest of it
 * dropped. It exceeds SETUP_LINE_MAX_BYTES by more than the longest secret (envVars values are at
 * most 32 KiB), so a secret is always whole in what is scrubbed before the cut.
 */
const PENDING_MAX = 64 * 1024;
const MARK_BYTES = Buffer.byteLength(SETUP_LINE_CUT_MARK);

/** Escape sequences (CSI, OSC, two-byte), then every other control character but tab. */
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f\x80-\x9f]/g;

/**
 * Secrets to replace in single lines: each whole, and each of its lines (a secret with a newline
 * reaches us in pieces).
 */
export function lineSecrets(secrets: readonly string[]): string[] {
  return [...new Set(secrets.flatMap((s) => [s, ...s.split(/[\r\n]+/)]))].filter((s) => s.length >= 4);
}

/**
 * One line as it may be shown: escape sequences removed, secrets and credential-shaped text
 * replaced by `***` (on the whole line, before what a progress bar overwrote with `\r` is dropped,
 * and again after control characters are removed: neither may join or reveal a piece of a secret),
 * cut at SETUP_LINE_MAX_BYTES (UTF-8) with SETUP_LINE_CUT_MARK.
 */
export function cleanLine(raw: string, secrets: readonly string[]): string {
  let line = scrub(raw.replace(ESCAPES, ''), secrets).replace(/\r+$/, '');
  line = scrub(line.slice(line.lastIndexOf('\r') + 1).replace(CONTROLS, ''), secrets);
  if (Buffer.byteLength(line) <= SETUP_LINE_MAX_BYTES) return line;
  const cut = Buffer.from(line)
    .subarray(0, SETUP_LINE_MAX_BYTES - MARK_BYTES)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return `${cut}${SETUP_LINE_CUT_MARK}`;
}

/**
 * Splits one stream of a process's output (chunks cut anywhere, UTF-8 split across chunks) into
 * clean lines. Holds at most PENDING_MAX characters of an unfinished line.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  /** The current line was shown cut: the rest of it, up to its newline, is dropped. */
  private skipping = false;

  constructor(private readonly secrets: readonly string[]) {}

  push(data: Buffer | string): string[] {
    let text = this.pending + (typeof data === 'string' ? data : this.decoder.write(data));
    const out: string[] = [];
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n')) {
      if (!this.skipping) out.push(cleanLine(text.slice(0, nl), this.secrets));
      this.skipping = false;
      text = text.slice(nl + 1);
    }
    if (this.skipping) text = '';
    else if (text.length > PENDING_MAX) {
      out.push(cleanLine(text, this.secrets));
      this.skipping = true;
      text = '';
    }
    this.pending = text;
    return out;
  }

  /** The last line, when the output ended without a newline. */
  end(): string[] {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    return rest === '' || this.skipping ? [] : [cleanLine(rest, this.secrets)];
  }
}

/**
 * How much setup output may go to the logs: a token bucket of bytes (each line costs its length
 * plus LINE_COST, so a flood of empty lines is bounded too). A chatty install loses lines, never
 * time: its process is not slowed.
 */
export class OutputAllowance {
  private tokens: number;
  private last: number;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly burstBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burstBytes;
    this.last = now();
  }

  take(line: string): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burstBytes, this.tokens + ((t - this.last) / 1000) * this.bytesPerSecond);
    this.last = t;
    const cost = Buffer.byteLength(line) + LINE_COST;
    if (cost > this.tokens) return false;
    this.tokens -= cost;
    return true;
  }
}

export const LINE_COST = 64;
