// Server-Sent Events over fetch (EventSource cannot send the Authorization header).

/**
 * Reads an event-stream body: `onEvent(id, data)` for each event (either may be null; data as sent).
 * Returns true when `onEvent` returned true (reading stopped there), false when the stream ended.
 */
export async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buf += value;
    let end;
    while ((end = buf.indexOf('\n\n')) !== -1) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let id = null;
      let data = null;
      for (const l of block.split('\n')) {
        if (l.startsWith('id:')) id = l.slice(3).trim();
        else if (l.startsWith('data:')) data = l.slice(5).trim();
      }
      if (onEvent(id, data)) {
        await reader.cancel().catch(() => undefined);
        return true;
      }
    }
  }
}
