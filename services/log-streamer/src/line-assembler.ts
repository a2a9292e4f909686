import type { ContainerOutputStream } from '@berth/contracts';
import type { Frame } from './docker-frames.js';
import { isAtOrBefore, type Positions } from './positions.js';

export interface LogRecord {
  stream: ContainerOutputStream;
  ts: string;
  n: number;
  line: string;
  cont?: true;
}

const TS_LENGTH = 30; // 2006-01-02T15:04:05.000000000Z

/** Cuts `buf` into pieces of at most `max` bytes, never inside a UTF-8 sequence. */
export function splitBytes(buf: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  let rest = buf;
  while (rest.length > max) {
    let cut = max;
    while (cut > 0 && ((rest[cut] ?? 0) & 0xc0) === 0x80) cut--;
    if (cut === 0) cut = max;
    out.push(rest.subarray(0, cut));
    rest = rest.subarray(cut);
  }
  out.push(rest);
  return out;
}

/**
 * Turns Docker frames (`<timestamp> <output>`) into log records: one per line, lines longer than
 * `maxLineBytes` split into pieces flagged `cont`, Docker's own partial messages flagged too.
 * Each piece gets `n`, its index among the stream's pieces with the same timestamp, so a re-read
 * numbers them identically and pieces at or before `resume` are skipped.
 */
export class LineAssembler {
  private readonly last: Partial<Record<ContainerOutputStream, { ts: string; n: number }>> = {};

  constructor(
    private readonly maxLineBytes: number,
    private readonly resume: Positions = {},
  ) {}

  /** The last piece seen per stream (stored or skipped as already stored), merged with `resume`. */
  positions(): Positions {
    const out: Positions = { ...this.resume };
    for (const [stream, last] of Object.entries(this.last) as [ContainerOutputStream, { ts: string; n: number }][]) {
      if (!isAtOrBefore(last.ts, last.n, out[stream])) out[stream] = { ...out[stream], ...last };
    }
    return out;
  }

  push(frame: Frame): LogRecord[] {
    const { payload, stream } = frame;
    if (payload.length < TS_LENGTH + 1 || payload[TS_LENGTH] !== 0x20) return [];
    const ts = payload.toString('latin1', 0, TS_LENGTH);
    let body = payload.subarray(TS_LENGTH + 1);
    const complete = body.length > 0 && body[body.length - 1] === 0x0a;
    if (complete) body = body.subarray(0, body.length - 1);
    const out: LogRecord[] = [];
    const lines = body.includes(0x0a) ? splitOnNewline(body) : [body];
    lines.forEach((line, i) => {
      const whole = complete || i < lines.length - 1;
      if (!whole && line.length === 0) return;
      const pieces = splitBytes(line, this.maxLineBytes);
      pieces.forEach((piece, j) => {
        const prev = this.last[stream];
        const n = prev && prev.ts === ts ? prev.n + 1 : 0;
        this.last[stream] = { ts, n };
        if (isAtOrBefore(ts, n, this.resume[stream])) return;
        const cont = j < pieces.length - 1 || !whole;
        out.push({ stream, ts, n, line: piece.toString('utf8'), ...(cont && { cont: true as const }) });
      });
    });
    return out;
  }
}

function splitOnNewline(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, start)) {
    out.push(buf.subarray(start, i));
    start = i + 1;
  }
  out.push(buf.subarray(start));
  return out;
}
