import type { Logger } from './logger.js';
import { startTracing } from './tracing.js';

export type Stopper = () => Promise<void> | void;

export interface ServiceHandle {
  /** Runs the stoppers in reverse order of registration. Idempotent. */
  stop(reason?: string): Promise<void>;
}

/**
 * Starts a service and wires SIGTERM/SIGINT to a graceful stop (stoppers in reverse order,
 * e.g. stop accepting work, drain NATS, quit Redis), with a force-exit timer in case a stopper hangs.
 * If `start` throws, the stoppers registered so far run, `exit(1)` is called and the error is rethrown.
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
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
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
    // First registered, so it runs last: spans of the other stoppers' work are flushed too.
    stoppers.push(await startTracing(opts.name));
    await opts.start((s) => stoppers.push(s));
  } catch (err) {
    opts.logger.fatal({ err }, `${opts.name} failed to start`);
    await stop('start failed');
    exit(1);
    throw err; // only reached when `exit` does not end the process (tests)
  }
  opts.logger.info(`${opts.name} started`);
  return { stop };
}
