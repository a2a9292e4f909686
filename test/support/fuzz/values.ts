import type { JsonSchema } from './openapi.js';
import type { Rng } from './prng.js';

/** Strings that satisfy common berth patterns; the generator tries them before random text. */
const PATTERN_CANDIDATES = ['agent-1', 'default', 'berth/workspace:latest', 'vol-1', 'ws_0123456789abcdef', 'abcdefgh-12345678', 'x1', '/workspace', 'PATH_1'];

/** Strings meant to break parsers, matchers, loggers and paths. */
const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0000'.repeat(64),
  '\r\n\r\nX-Injected: 1',
  '\u001b[31mred',
  '\u0007\u0008\u007f',
  '../../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f',
  '..\\..\\windows',
  '/etc/shadow',
  '/var/run/docker.sock',
  '\ud800',
  '\udfff',
  '\ufeff',
  '\u202e',
  'ü',
  '名前',
  '🚀🚀',
  'e\u0301',
  '\uffff',
  'Ω'.repeat(300),
  '${jndi:ldap://x}',
  '$(id)',
  '`id`',
  '; rm -rf /',
  '| cat /etc/passwd',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '{{7*7}}',
  '%s%s%s%n',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'NaN',
  'Infinity',
  '-0',
  'null',
  'true',
  '[]',
  '{}',
  'ws_',
  'ws_0123456789ABCDEF',
  'ws_0123456789abcdef0',
  'ws_0123456789abcde',
];

const HOSTILE_NUMBERS: readonly number[] = [
  0,
  -1,
  -0,
  1.5,
  0.1,
  1e308,
  -1e308,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 31,
  -(2 ** 31),
  65536,
  600_001,
  Number.MIN_VALUE,
  1e-300,
];

function randomText(rng: Rng, len: number): string {
  let out = '';
  for (let i = 0; i < len; i++) {
    const roll = rng.next();
    if (roll < 0.7) out += String.fromCharCode(rng.int(0x21, 0x7e));
    else if (roll < 0.8) out += String.fromCharCode(rng.int(0, 0x1f));
    else if (roll < 0.95) out += String.fromCodePoint(rng.int(0xa0, 0x2fff));
    else out += String.fromCodePoint(rng.int(0x1f300, 0x1f6ff));
  }
  return out;
}

/** A string somewhere between harmless and nasty: hostile list, random unicode, or huge. */
export function hostileString(rng: Rng): string {
  const roll = rng.next();
  if (roll < 0.5) return rng.pick(HOSTILE_STRINGS);
  if (roll < 0.85) return randomText(rng, rng.int(1, 80));
  if (roll < 0.97) return rng.pick(['a', '\u0000', 'é', '🚀', '../']).repeat(rng.int(1_000, 70_000));
  return 'x'.repeat(rng.int(200_000, 600_000));
}

/** Nesting deep enough to hurt a recursive walker (deeper still comes as raw text, see rawBody). */
export function deepNesting(rng: Rng): unknown {
  const depth = rng.int(100, 1_500);
  let v: unknown = rng.pick([1, 'x', null, {}]);
  for (let i = 0; i < depth; i++) v = rng.chance(0.5) ? [v] : { a: v };
  return v;
}

/** Any JSON value of the wrong kind, including prototype-pollution shapes. */
export function hostileValue(rng: Rng): unknown {
  switch (rng.int(0, 9)) {
    case 0:
      return hostileString(rng);
    case 1:
      return rng.pick(HOSTILE_NUMBERS);
    case 2:
      return rng.pick([true, false, null]);
    case 3:
      return [];
    case 4:
      return Array.from({ length: rng.int(1, 2_000) }, () => rng.pick([1, 'a', null]));
    case 5:
      return {};
    case 6:
      return deepNesting(rng);
    case 7:
      return JSON.parse('{"__proto__":{"polluted":true}}') as unknown;
    case 8:
      return { constructor: { prototype: { polluted: true } } };
    default:
      return { [hostileString(rng).slice(0, 100)]: hostileString(rng).slice(0, 100) };
  }
}

/** A value that satisfies `schema` (with `$ref`s resolved by `resolve`), for the valid baseline of a request. */
export function validValue(schema: JsonSchema, rng: Rng, resolve: (s: JsonSchema) => JsonSchema): unknown {
  const s = resolve(schema);
  const options = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (options) return validValue(rng.pick(options), rng, resolve);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return rng.pick(s.enum as unknown[]);
  switch (s.type) {
    case 'integer':
    case 'number': {
      const lo = typeof s.minimum === 'number' ? s.minimum : 0;
      const hi = typeof s.maximum === 'number' ? s.maximum : lo + 1000;
      return rng.int(lo, Math.min(hi, lo + 10_000));
    }
    case 'boolean':
      return rng.chance(0.5);
    case 'array': {
      const min = typeof s.minItems === 'number' ? s.minItems : 0;
      const max = Math.min(typeof s.maxItems === 'number' ? s.maxItems : min + 3, min + 3);
      return Array.from({ length: rng.int(min, max) }, () => validValue((s.items as JsonSchema | undefined) ?? {}, rng, resolve));
    }
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((s.required ?? []) as string[]);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(props)) if (required.has(k) || rng.chance(0.5)) out[k] = validValue(v, rng, resolve);
      return out;
    }
    case 'string':
      return validString(s, rng);
    default:
      return 'x';
  }
}

function validString(s: JsonSchema, rng: Rng): string {
  const min = typeof s.minLength === 'number' ? s.minLength : 1;
  const max = typeof s.maxLength === 'number' ? s.maxLength : 64;
  const fits = (v: string) => v.length >= min && v.length <= max && (typeof s.pattern !== 'string' || new RegExp(s.pattern, 'u').test(v));
  // A schema's own example (e.g. `acme/web` for a repo name) first, then the common candidates.
  const candidates = [...(typeof s.example === 'string' ? [s.example] : []), ...PATTERN_CANDIDATES].filter(fits);
  if (candidates.length > 0) return rng.pick(candidates);
  const plain = 'a'.repeat(Math.max(min, Math.min(max, 8)));
  if (fits(plain)) return plain;
  throw new Error(`no valid string for schema ${JSON.stringify(s)}`);
}
