import { describe, expect, it } from 'vitest';
import { FrameDecoder, RawLineDecoder, type Frame } from '../src/docker-frames.js';
import { LineAssembler, splitBytes } from '../src/line-assembler.js';
import { isAtOrBefore, resumeSince } from '../src/positions.js';

const T1 = '2026-01-02T03:04:05.000000001Z';
const T2 = '2026-01-02T03:04:05.000000002Z';
const frame = (stream: 'stdout' | 'stderr', ts: string, text: string): Frame => ({ stream, payload: Buffer.from(`${ts} ${text}`) });

function muxed(stream: 1 | 2, text: string): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([header, Buffer.from(text)]);
}

describe('FrameDecoder', () => {
  it('decodes frames cut at any byte', () => {
    const all = Buffer.concat([muxed(1, `${T1} a\n`), muxed(2, `${T2} b\n`)]);
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new FrameDecoder();
      const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(frames.map((f) => [f.stream, f.payload.toString()])).toEqual([
        ['stdout', `${T1} a\n`],
        ['stderr', `${T2} b\n`],
      ]);
    }
  });

  it('reads a TTY stream line by line as stdout', () => {
    const d = new RawLineDecoder();
    const frames = [...d.push(Buffer.from(`${T1} a\n${T2} b`)), ...d.push(Buffer.from('c\n'))];
    expect(frames.map((f) => f.payload.toString())).toEqual([`${T1} a\n`, `${T2} bc\n`]);
  });
});

describe('LineAssembler', () => {
  it('makes one record per line, numbering pieces that share a timestamp', () => {
    const a = new LineAssembler(100);
    expect(a.push(frame('stdout', T1, 'one\n'))).toEqual([{ stream: 'stdout', ts: T1, n: 0, line: 'one' }]);
    expect(a.push(frame('stdout', T1, 'two\n'))).toEqual([{ stream: 'stdout', ts: T1, n: 1, line: 'two' }]);
    expect(a.push(frame('stderr', T1, 'err\n'))).toEqual([{ stream: 'stderr', ts: T1, n: 0, line: 'err' }]);
    expect(a.push(frame('stdout', T2, 'three\n'))[0]).toMatchObject({ ts: T2, n: 0 });
  });

  it('splits long lines into flagged pieces without cutting UTF-8 characters', () => {
    const a = new LineAssembler(5);
    const records = a.push(frame('stdout', T1, 'abcdéfghi\n'));
    expect(records.map((r) => [r.line, r.cont ?? false])).toEqual([
      ['abcd', true],
      ['éfgh', true],
      ['i', false],
    ]);
    expect(records.map((r) => r.n)).toEqual([0, 1, 2]);
  });

  it('flags output that stopped mid-line and splits embedded newlines', () => {
    const a = new LineAssembler(100);
    expect(a.push(frame('stdout', T1, 'partial'))).toEqual([{ stream: 'stdout', ts: T1, n: 0, line: 'partial', cont: true }]);
    expect(a.push(frame('stdout', T2, 'x\ny\n')).map((r) => r.line)).toEqual(['x', 'y']);
    expect(a.push(frame('stdout', T2, '\n'))).toEqual([{ stream: 'stdout', ts: T2, n: 2, line: '' }]);
  });

  it('skips what was stored before a restart, per stream, and numbers the rest as before', () => {
    const first = new LineAssembler(100);
    const input = [frame('stdout', T1, 'a\n'), frame('stdout', T1, 'b\n'), frame('stderr', T1, 'e\n'), frame('stdout', T2, 'c\n')];
    const all = input.flatMap((f) => first.push(f));
    const resumed = new LineAssembler(100, { stdout: { ts: T1, n: 0 }, stderr: { ts: T1, n: 0 } });
    expect(input.flatMap((f) => resumed.push(f))).toEqual(all.filter((r) => !(r.stream === 'stderr' || (r.ts === T1 && r.n === 0))));
  });

  it('ignores frames without a timestamp', () => {
    expect(new LineAssembler(100).push({ stream: 'stdout', payload: Buffer.from('garbage\n') })).toEqual([]);
  });

  it('splitBytes keeps short buffers whole', () => {
    expect(splitBytes(Buffer.from('abc'), 3).map(String)).toEqual(['abc']);
    expect(splitBytes(Buffer.alloc(0), 3)).toHaveLength(1);
  });
});

describe('positions', () => {
  it('orders by timestamp, then index', () => {
    expect(isAtOrBefore(T1, 5, { ts: T2, n: 0 })).toBe(true);
    expect(isAtOrBefore(T2, 0, { ts: T2, n: 0 })).toBe(true);
    expect(isAtOrBefore(T2, 1, { ts: T2, n: 0 })).toBe(false);
    expect(isAtOrBefore(T1, 0, undefined)).toBe(false);
  });

  it('resumes the slack before the latest stored line of either stream', () => {
    expect(resumeSince({}, 2000)).toBeUndefined();
    const unix = Date.parse('2026-01-02T03:04:05Z') / 1000;
    expect(resumeSince({ stdout: { ts: T1, n: 0 }, stderr: { ts: T2, n: 3 } }, 0)).toBe(`${unix}.000000002`);
    expect(resumeSince({ stdout: { ts: T2, n: 0 } }, 1500)).toBe(`${unix - 2}.500000002`);
  });
});
