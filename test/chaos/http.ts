/** One HTTP call of the chaos run: how it ended and how long it took. */
export interface Answer {
  /**
   * HTTP status; 'refused' (no connection: the request never reached the gateway), 'conn' (the
   * connection dropped mid-request: it may have acted) or 'hung' (no answer in time).
   */
  status: number | 'refused' | 'conn' | 'hung';
  ms: number;
  code?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- callers read the fields they need
  json?: any;
}

export async function send(
  url: string,
  token: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
  hangMs = 10_000,
): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(hangMs),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    let json: Answer['json'];
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, ms, code: json?.error?.code, json };
  } catch (err) {
    const ms = performance.now() - started;
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') return { status: 'hung', ms };
    return { status: (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED' ? 'refused' : 'conn', ms };
  }
}
