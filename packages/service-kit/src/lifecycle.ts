import type { Logger } from './logger.js';

export type Stopper = () => Promise<void> | void;

export interface ServiceHandle {
  /** Runs the stoppers in reverse order of registration. Idempotent. */
  stop(reason?: string): Promise<void>;
}

/**
 * Starts a service and wires SIGTERM/SIGINT to a graceful stop (stoppers in reverse order,
 * e.g. stop accepting work, drain NATS, quit Redis), with a force-exit timer in case a stopper hangs.
 */
export async function runService(opts: {
  name: string;
  logger: Logger;
  shutdownTimeoutMs: number;
  start: (onStop: (s: Stopper) => void) => Promise<void>;
  exit?: (code: number) => void;
}): Promise<ServiceHandle> {
  const stoppers: Stopper[] = [];
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping: Promise<void> | undefined;

  const stop = (reason = 'stop'): Promise<void> => {
    stopping ??= (async () => {
      opts.logger.info({ reason }, `${opts.name} stopping`);
      const force = setTimeout(() => {
        opts.logger.error({ timeoutMs: opts.shutdownTimeoutMs }, 'graceful stop timed out, forcing exit');
        exit(1);
      }, opts.shutdownTimeoutMs);
      force.unref();
      for (const s of stoppers.reverse()) {
        try {
          await s();
        } catch (err) {
          opts.logger.warn({ err }, 'stopper failed');
        }
      }
      clearTimeout(force);
      opts.logger.info(`${opts.name} stopped`);
    })();
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    void stop(signal).then(() => exit(0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  try {
    await opts.start((s) => stoppers.push(s));
  } catch (err) {
    opts.logger.fatal({ err }, `${opts.name} failed to start`);
    await stop('start failed');
    exit(1);
  }
  opts.logger.info(`${opts.name} started`);
  return { stop };
}
