import { parseArgs } from 'node:util';
import { mintKey } from './mint.js';

const USAGE = `usage: pnpm berth-key create --name NAME --owner OWNER [--scopes read,write,exec,admin] [--rps N --burst N]

Prints the new key once (give it to the caller; it cannot be shown again) and the line to add to
the JSON array in BERTH_API_KEYS_FILE. The gateway picks the change up within a second or on SIGHUP.`;

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command !== 'create') {
    console.error(USAGE);
    return 2;
  }
  try {
    const { values } = parseArgs({
      args: rest,
      options: {
        name: { type: 'string' },
        owner: { type: 'string' },
        scopes: { type: 'string', default: 'read,write,exec' },
        rps: { type: 'string' },
        burst: { type: 'string' },
      },
      strict: true,
    });
    const rateLimit = values.rps === undefined ? undefined : { rps: Number(values.rps), burst: Number(values.burst ?? values.rps) };
    const { key, entry } = mintKey({
      name: values.name ?? '',
      owner: values.owner ?? '',
      scopes: values.scopes.split(',').map((s) => s.trim()) as never,
      rateLimit,
    });
    console.log(`key (shown once): ${key}`);
    console.log(`keys file entry: ${JSON.stringify(entry)}`);
    return 0;
  } catch (err) {
    const issues = (err as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    console.error(issues ? issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n') : (err as Error).message);
    console.error(USAGE);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
