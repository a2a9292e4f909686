import { BerthError } from '@berth/contracts';
import { Berth } from '../berth.js';
import { BerthAbortError, BerthNetworkError, BerthResponseError, BerthTimeoutError } from '../errors.js';
import { parse } from './args.js';
import { create, ls, rm } from './commands/containers.js';
import { cp } from './commands/cp.js';
import { pause, resume } from './commands/pause.js';
import { exec } from './commands/exec.js';
import { login } from './commands/login.js';
import { logs } from './commands/logs.js';
import { watch } from './commands/watch.js';
import { preview } from './commands/preview.js';
import { shell } from './commands/shell.js';
import { health, pools, volumes } from './commands/system.js';
import { llmKey, usage } from './commands/usage.js';
import { template } from './commands/template.js';
import { resolveConfig } from './config.js';
import type { Command } from './context.js';
import { USAGE } from './help.js';
import { EXIT, UsageError, type Io } from './io.js';
import { sdkVersion } from './version.js';

const COMMANDS: Record<string, Command> = {
  ls,
  create,
  exec,
  cp,
  logs,
  watch,
  shell,
  rm,
  pause,
  resume,
  usage,
  'llm-key': llmKey,
  preview,
  pools,
  volumes,
  template,
  health,
  login,
};

/** Runs one berth invocation and returns its exit code; every error ends up as a message here. */
export async function run(argv: string[], io: Io): Promise<number> {
  try {
    const p = parse(argv);
    if (p.values.version) {
      io.out(`berth ${sdkVersion()}\n`);
      return EXIT.ok;
    }
    if (p.command === undefined && !p.values.help) {
      io.err(USAGE);
      return EXIT.usage;
    }
    if (p.command === undefined || p.command === 'help' || p.values.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    const command = COMMANDS[p.command];
    if (!command) throw new UsageError(`unknown command "${p.command}"`);
    const client = async () => new Berth(await resolveConfig({ url: p.values.url }, io.env));
    return await command(p, { io, client });
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: Io): number {
  if (err instanceof UsageError) {
    io.err(`berth: ${err.message}\nRun berth --help for usage.\n`);
    return EXIT.usage;
  }
  // API errors carry their code first in the message (e.g. "CONTAINER_NOT_FOUND: ...").
  const known =
    err instanceof BerthError ||
    err instanceof BerthTimeoutError ||
    err instanceof BerthAbortError ||
    err instanceof BerthNetworkError ||
    err instanceof BerthResponseError;
  io.err(`berth: ${known ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`}\n`);
  return EXIT.failed;
}
