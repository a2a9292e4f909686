/** Lines (without their `\n` or `\r\n`) of a streamed body, decoded as UTF-8; a last unterminated line is yielded too. */
export async function* linesOf(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      yield line.endsWith('\r') ? line.slice(0, -1) : line;
    }
  }
  buf += decoder.decode();
  if (buf !== '') yield buf;
}

/** One Server-Sent Event. `id` is opaque: whatever the server sent, handed back in `Last-Event-ID`. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** Server-Sent Events per the HTML spec's parsing rules (comments skipped, multi-line data joined). */
export async function* sseEventsOf(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  for await (const line of linesOf(body)) {
    if (line === '') {
      if (data.length > 0) yield { id, event: event || 'message', data: data.join('\n') };
      event = '';
      data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
  }
}
