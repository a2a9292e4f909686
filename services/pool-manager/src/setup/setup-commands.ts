import { createHash } from 'node:crypto';

/** The install command a lockfile implies; none without a lockfile (the phase is skipped). */
export function defaultInstallCommand(lockfile: string | null): string | undefined {
  switch (lockfile) {
    case 'package-lock.json':
      return 'npm ci --prefer-offline --no-audit --no-fund';
    case 'pnpm-lock.yaml':
      return 'corepack pnpm install --frozen-lockfile --prefer-offline';
    case 'yarn.lock':
      return 'corepack yarn install --frozen-lockfile';
    default:
      return undefined;
  }
}

/** `npm run dev` when package.json has a dev script; otherwise nothing is started. */
export function defaultStartCommand(devScript: boolean): string | undefined {
  return devScript ? 'npm run dev' : undefined;
}

/**
 * Runs a caller's command (theirs to run in their own workspace, like exec) with its output going
 * to the container's own stdout/stderr, where log-streamer reads it. The command is `$1`, never
 * pasted into the script.
 */
export function detachedToContainerLog(command: string): string[] {
  return ['sh', '-c', 'exec sh -c "$1" >/proc/1/fd/1 2>/proc/1/fd/2 </dev/null', 'berth-start', command];
}

/** Every setup process carries this variable, so a later setup or a restart can kill what is left. */
export const SETUP_PROC_VAR = 'BERTH_SETUP_PROC';

/**
 * Name of the repo's node_modules seed volume: per host id (one pool-manager per Docker host) and per
 * caller (one caller's install never seeds another's workspaces).
 */
export function seedVolumeName(hostId: string, owner: string, repo: string): string {
  const hash = createHash('sha256').update(`${hostId}\n${owner}\n${repo}`).digest('hex').slice(0, 10);
  return `berth-nm-${repo.replace('/', '-')}-${hash}`;
}

/** The `BERTH_RESULT <json>` line a task prints last. */
export function taskResult<T>(output: string): T | undefined {
  const line = output
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('BERTH_RESULT '));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice('BERTH_RESULT '.length)) as T;
  } catch {
    return undefined;
  }
}
