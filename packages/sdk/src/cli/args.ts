import { parseArgs } from 'node:util';
import { UsageError } from './io.js';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  pool: { type: 'string' },
  name: { type: 'string' },
  image: { type: 'string' },
  port: { type: 'string', multiple: true },
  repo: { type: 'string' },
  volume: { type: 'string' },
  timeout: { type: 'string' },
  'api-key-stdin': { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  recursive: { type: 'boolean', short: 'r' },
  tail: { type: 'string' },
  since: { type: 'string' },
  expires: { type: 'string' },
  cpus: { type: 'string' },
  memory: { type: 'string' },
  disk: { type: 'string' },
  file: { type: 'string' },
  template: { type: 'string' },
} as const;

type OptionName = keyof typeof OPTIONS;

export interface Parsed {
  command: string | undefined;
  positionals: string[];
  /** Everything after the first `--` (exec's command). */
  rest: string[] | undefined;
  values: {
    help?: boolean;
    version?: boolean;
    json?: boolean;
    'api-key-stdin'?: boolean;
    port?: string[];
    url?: string;
    pool?: string;
    name?: string;
    image?: string;
    repo?: string;
    volume?: string;
    timeout?: string;
    follow?: boolean;
    recursive?: boolean;
    tail?: string;
    since?: string;
    expires?: string;
    cpus?: string;
    memory?: string;
    disk?: string;
    file?: string;
    template?: string;
  };
}

export function parse(argv: string[]): Parsed {
  // The key would show in `ps` and shell history; refuse it by name, never echo what followed.
  if (argv.some((a) => a === '--api-key' || a.startsWith('--api-key='))) {
    throw new UsageError('the API key is never taken from the command line: set BERTH_API_KEY or run `berth login --url URL --api-key-stdin`');
  }
  const dash = argv.indexOf('--');
  const head = dash === -1 ? argv : argv.slice(0, dash);
  let parsed;
  try {
    parsed = parseArgs({ args: head, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const [command, ...positionals] = parsed.positionals;
  return { command, positionals, rest: dash === -1 ? undefined : argv.slice(dash + 1), values: parsed.values };
}

/** Refuses options the command does not take (`--url`, `--help` and `--version` are global). */
export function allowOnly(p: Parsed, allowed: OptionName[]): void {
  const ok = new Set<string>(['url', 'help', 'version', ...allowed]);
  const extra = Object.keys(p.values).filter((k) => !ok.has(k));
  if (extra.length > 0) throw new UsageError(`${p.command} does not take --${extra.join(', --')}`);
}

export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${flag} must be a positive whole number, got "${value}"`);
  return Number(value);
}

/** A whole number from 0 up (`--tail 0` is allowed). */
export function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} must be a whole number, got "${value}"`);
  return Number(value);
}
