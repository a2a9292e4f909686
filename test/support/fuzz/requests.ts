import type { JsonSchema, Operation } from './openapi.js';
import type { Rng } from './prng.js';
import { deepNesting, hostileString, hostileValue, validValue } from './values.js';

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  /** What was done to the request, for the failure report. */
  mutations: string[];
}

export interface FuzzContext {
  token: string;
  resolve: (s: JsonSchema) => JsonSchema;
  /** Ids that exist, so some requests get past the 404. */
  knownIds?: readonly string[];
  /** Probability a request is sent without any mutation (valid calls that would change state). */
  validRate?: number;
}

/** Path segments meant to escape the route, the id pattern or the router. */
const HOSTILE_SEGMENTS = [
  '..',
  '..%2f..%2fetc%2fpasswd',
  '..%2F..%2F',
  '%2e%2e%2f%2e%2e',
  '%252e%252e%252f',
  '..%5c..%5c',
  '%00',
  'ws_0123456789abcdef%00',
  'ws_0123456789abcdef%2f..',
  '%2f',
  '%',
  '%zz',
  '%c0%ae%c0%ae',
  '%ef%bf%bd',
  '%F0%9F%9A%80',
  '%0d%0aX-Injected:1',
  '.',
  '%20',
  'ws_0123456789ABCDEF',
  'ws_0000000000000000',
  'ws_',
  'WS_0123456789abcdef',
  '__proto__',
  'constructor',
  'a'.repeat(101),
  `ws_${'0'.repeat(5_000)}`,
  '%41'.repeat(2_000),
];

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json-patch+json',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/json;;',
  'application/jsonx',
  '*/*',
  '',
  'application/octet-stream',
];

/** encodeURIComponent that accepts lone surrogates (as their UTF-8 replacement bytes). */
function pct(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8'))
    out += /[\w.~-]/.test(String.fromCharCode(byte)) && byte < 0x80 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

function pathParam(rng: Rng, schema: JsonSchema, ctx: FuzzContext, mutations: string[]): string {
  if (ctx.knownIds?.length && rng.chance(0.15)) return ctx.knownIds[rng.int(0, ctx.knownIds.length - 1)] as string;
  if (rng.chance(0.35)) return pct(String(validValue(schema, rng, ctx.resolve)));
  mutations.push('path param');
  if (rng.chance(0.6)) return rng.pick(HOSTILE_SEGMENTS);
  return pct(hostileString(rng).slice(0, rng.chance(0.9) ? 200 : 20_000));
}

/** Mutates one field of an object body: wrong type, hostile value, unknown or pollution key. */
function mutateObject(rng: Rng, body: Record<string, unknown>, schema: JsonSchema, mutations: string[]): void {
  const props = Object.keys((schema.properties ?? {}) as Record<string, unknown>);
  const roll = rng.next();
  if (roll < 0.55 && props.length > 0) {
    const key = rng.pick(props);
    body[key] = hostileValue(rng);
    mutations.push(`field ${key}`);
  } else if (roll < 0.75) {
    const key = rng.pick(['privileged', 'binds', 'user', 'HostConfig', 'colour', hostileString(rng).slice(0, 50)]);
    body[key] = hostileValue(rng);
    mutations.push('extra key');
  } else if (roll < 0.9) {
    body['constructor'] = { prototype: { polluted: true } };
    mutations.push('constructor key');
  } else {
    Object.defineProperty(body, '__proto__', { value: { polluted: true }, enumerable: true });
    mutations.push('__proto__ key');
  }
}

/** A raw body text that is not what JSON.stringify would make. */
function rawBody(rng: Rng, valid: string, mutations: string[]): string | Buffer {
  const kind = rng.int(0, 10);
  mutations.push(`raw body ${kind}`);
  switch (kind) {
    case 0:
      return valid.slice(0, rng.int(0, Math.max(0, valid.length - 1)));
    case 1:
      return `${valid.slice(0, -1)},"name":"a","name":"b"}`.replace('{,', '{');
    case 2:
      return '['.repeat(rng.int(1_000, 200_000)) + ']'.repeat(rng.chance(0.5) ? 0 : 10);
    case 3:
      return '{"a":'.repeat(rng.int(1_000, 50_000)) + '1' + '}'.repeat(rng.int(0, 50_000));
    case 4:
      return Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0xaf, 0x22, 0x7d]);
    case 5:
      return `{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}`;
    case 6:
      return valid.replace(/:/, ': \u0000');
    case 7:
      return JSON.stringify(deepNesting(rng));
    case 8:
      return `\ufeff${valid}`;
    case 9:
      return `{"name":"${'a'.repeat(rng.int(250_000, 1_100_000))}"}`;
    default:
      return rng.pick(['', ' ', 'null', 'true', '1e999', '"', '{}}', '{"a":1}garbage', 'NaN', '[]']);
  }
}

/** One request for `op`: valid at its core, then broken in zero or more ways. */
export function generateRequest(op: Operation, rng: Rng, ctx: FuzzContext): FuzzRequest {
  const mutations: string[] = [];
  const sendValid = rng.chance(ctx.validRate ?? 0.1);
  const m = (p: number) => !sendValid && rng.chance(p);

  let url = op.path;
  for (const p of op.pathParams)
    url = url.replace(`{${p.name}}`, sendValid ? pct(String(validValue(p.schema, rng, ctx.resolve))) : pathParam(rng, p.schema, ctx, mutations));
  if (m(0.1)) {
    url += `?${pct(hostileString(rng).slice(0, 500))}=${rng.pick(['%00', '..%2f', '1', '%zz', '&&&', 'a'.repeat(5_000)])}`;
    mutations.push('query');
  }
  if (m(0.03)) {
    url = rng.pick([url.replace('/api', '/API'), `${url}/`, url.replace('/api/', '/api//'), `/./${url}`, url.replace(/\//g, '%2f')]);
    mutations.push('url shape');
  }

  const headers: Record<string, string> = {};
  if (!op.secured || !m(0.08)) headers.authorization = `Bearer ${ctx.token}`;
  else {
    const bad = rng.pick(['', 'Bearer', `Bearer ${ctx.token}x`, `Basic ${ctx.token}`, `Bearer ${'a'.repeat(10_000)}`, `bearer  ${ctx.token.slice(1)}`]);
    if (bad) headers.authorization = bad;
    mutations.push('auth');
  }
  for (const h of op.headerParams) {
    if (rng.chance(0.3))
      headers[h.name] = m(0.5)
        ? hostileString(rng)
            .replace(/[^\t\x20-\x7e]/g, '')
            .slice(0, 4_000)
        : String(validValue(h.schema, rng, ctx.resolve));
  }
  if (m(0.05)) {
    headers.traceparent = rng.pick(['00-' + 'f'.repeat(32) + '-' + 'f'.repeat(16) + '-01', 'garbage', '00-zz', 'x'.repeat(2_000)]);
    mutations.push('traceparent');
  }

  let method = op.method;
  if (m(0.04)) {
    method = rng.pick(METHODS);
    mutations.push(`method ${method}`);
  }

  let payload: string | Buffer | undefined;
  if (op.body) {
    const schema = ctx.resolve(op.body);
    const body = validValue(schema, rng, ctx.resolve) as Record<string, unknown>;
    if (m(0.5)) mutateObject(rng, body, schema, mutations);
    let text = JSON.stringify(body);
    if (m(0.1)) {
      text = JSON.stringify(hostileValue(rng)) ?? 'null';
      mutations.push('whole body');
    }
    payload = m(0.25) ? rawBody(rng, text, mutations) : text;
    if (m(0.03)) {
      payload = undefined;
      mutations.push('no body');
    }
  } else if (m(0.05)) {
    payload = JSON.stringify(hostileValue(rng));
    mutations.push('unexpected body');
  }
  if (payload !== undefined) headers['content-type'] = 'application/json';
  if (m(0.06)) {
    const ct = rng.pick(CONTENT_TYPES);
    if (ct) headers['content-type'] = ct;
    else delete headers['content-type'];
    mutations.push(`content-type ${JSON.stringify(ct)}`);
  }
  return { method, url, headers, ...(payload !== undefined && { payload }), mutations };
}

/** A short description of a request for a failure message (bodies and urls truncated). */
export function describeRequest(req: FuzzRequest): string {
  const body = req.payload === undefined ? '' : ` body=${JSON.stringify(String(req.payload).slice(0, 200))}`;
  return `${req.method} ${req.url.slice(0, 200)} [${req.mutations.join(', ') || 'valid'}] ct=${req.headers['content-type'] ?? '-'}${body}`;
}
