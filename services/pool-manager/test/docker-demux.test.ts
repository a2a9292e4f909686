import { describe, expect, it } from 'vitest';
import { DockerDemux } from '../src/driver/docker-demux.js';
import type { OutputChunk } from '../src/driver/exec-process.js';

const frame = (type: number, text: string) => {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
};

describe('DockerDemux', () => {
  it('splits frames into stdout and stderr, across arbitrary read boundaries', async () => {
    const wire = Buffer.concat([frame(1, 'out-1'), frame(2, 'err-1'), frame(1, ''), frame(1, 'out-2')]);
    const demux = new DockerDemux();
    for (let i = 0; i < wire.length; i += 3) demux.write(wire.subarray(i, i + 3));
    demux.end();
    const got: OutputChunk[] = [];
    for await (const c of demux) got.push(c as OutputChunk);
    expect(got.map((c) => [c.stream, c.data.toString()])).toEqual([
      ['stdout', 'out-1'],
      ['stderr', 'err-1'],
      ['stdout', 'out-2'],
    ]);
  });
});
