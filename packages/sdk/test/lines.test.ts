import { describe, expect, test } from 'vitest';
import { linesOf, sseEventsOf } from '../src/lines.js';

/** A body delivered in the given pieces, split anywhere (even inside a UTF-8 character). */
function body(...pieces: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const p of pieces) c.enqueue(typeof p === 'string' ? enc.encode(p) : p);
      c.close();
    },
  });
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('linesOf', () => {
  test('splits on LF and CRLF across chunk boundaries, keeps a last unterminated line, decodes split characters', async () => {
    const euro = new TextEncoder().encode('€');
    expect(await all(linesOf(body('a\r', '\nb', 'c\n\n', euro.slice(0, 1), euro.slice(1), 'x')))).toEqual(['a', 'bc', '', '€x']);
  });
});

describe('sseEventsOf', () => {
  test('parses events as the HTML spec says: comments skipped, data lines joined, id kept as an opaque string', async () => {
    const events = await all(
      sseEventsOf(
        body(
          ': connected\n\n',
          'id: 7\nevent: log\ndata: {"a":1}\n\n',
          'id: abc.7:2\r\nevent: log\r\ndata:first\r\ndata: second\r\n\r\n',
          'data: no event name\n\n',
          ': keep-alive\n\n',
          'event: log\nid: x\0y\ndata: bad id ignored\n\n',
          'data: cut off without a blank line',
        ),
      ),
    );
    expect(events).toEqual([
      { id: '7', event: 'log', data: '{"a":1}' },
      { id: 'abc.7:2', event: 'log', data: 'first\nsecond' },
      { id: 'abc.7:2', event: 'message', data: 'no event name' },
      { id: 'abc.7:2', event: 'log', data: 'bad id ignored' },
    ]);
  });
});
