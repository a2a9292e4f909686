import { TemplateBuildEventSchema, type TemplateBuildEvent } from '@berth/contracts';

/** A template build's NDJSON events, each with its arrival time; or the refusal's status and body. */
export interface TemplateBuildResult {
  status: number;
  type?: string | null;
  events: { event: TemplateBuildEvent; at: number }[];
  body: { error: { code: string } } | undefined;
}

/** POSTs a build (Dockerfile text as JSON, or a tar context with ?name=) and reads its NDJSON events as they arrive. */
export async function buildTemplate(url: string, key: string, init: { json?: unknown; tar?: Buffer; name?: string }): Promise<TemplateBuildResult> {
  const res = await fetch(`${url}/api/templates${init.tar ? `?name=${init.name}` : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': init.tar ? 'application/x-tar' : 'application/json' },
    body: init.tar ?? JSON.stringify(init.json),
  });
  const events: TemplateBuildResult['events'] = [];
  if (res.status !== 200) return { status: res.status, body: (await res.json()) as { error: { code: string } }, events };
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) events.push({ event: TemplateBuildEventSchema.parse(JSON.parse(line)), at: Date.now() });
    }
  }
  return { status: res.status, type: res.headers.get('content-type'), events, body: undefined };
}

/** The build's output text, all hosts' lines in arrival order. */
export const buildOutput = (events: { event: TemplateBuildEvent }[]): string =>
  events
    .map((e) => e.event)
    .flatMap((e) => (e.type === 'output' ? [e.data] : []))
    .join('');
