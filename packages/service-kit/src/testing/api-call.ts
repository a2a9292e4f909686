/** berth's answer to {@link callApi}: the body as text, and parsed where it is JSON (else `{}`). */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test asserts the fields it reads
  json: Record<string, any>;
}

/** One request to berth's HTTP API as a caller makes it: a bearer token, and a JSON body when there is one. */
export async function callApi(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: parseObject(text) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see ApiAnswer.json
function parseObject(text: string): Record<string, any> {
  try {
    const v: unknown = JSON.parse(text);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see ApiAnswer.json
    return typeof v === 'object' && v !== null ? (v as Record<string, any>) : {};
  } catch {
    return {}; // plain text (logs), a stream, or no body
  }
}
