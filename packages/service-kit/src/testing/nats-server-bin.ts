import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The nats-server version berth pins (scripts/lib/nats-version; scripts/bootstrap installs it). */
export const NATS_SERVER_VERSION = readFileSync(new URL('../../../../scripts/lib/nats-version', import.meta.url), 'utf8').trim();

/**
 * The nats-server tests and benches run: NATS_SERVER_BIN, else the pinned one in
 * /opt/berth-nats/<version>/ (BERTH_NATS_PREFIX), else whatever `nats-server` PATH finds. Resolved
 * here, not only through scripts/lib/env.sh's PATH, so `pnpm exec vitest` and `pnpm bench:*` run
 * the pinned server too (bookworm's /usr/sbin/nats-server is 2.9).
 */
export function natsServerBin(): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv) return fromEnv;
  const pinned = join(process.env.BERTH_NATS_PREFIX ?? '/opt/berth-nats', NATS_SERVER_VERSION, 'nats-server');
  try {
    accessSync(pinned, constants.X_OK);
    return pinned;
  } catch {
    return 'nats-server';
  }
}
