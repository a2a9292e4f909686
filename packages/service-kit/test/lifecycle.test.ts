import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, runService } from '../src/index.js';

function setup() {
  const lines: string[] = [];
  const logger = createLogger('svc', 'info', {
    write: (l: string) => {
      lines.push(l);
    },
  });
  const exit = vi.fn<(code: number) => void>();
  const messages = () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  return { logger, exit, messages };
}

const signalListeners = () => ({ SIGTERM: process.listeners('SIGTERM'), SIGINT: process.listeners('SIGINT') });

/** The listener runService added for `signal`. */
function addedListener(before: ReturnType<typeof signalListeners>, signal: 'SIGTERM' | 'SIGINT') {
  const added = process.listeners(signal).filter((l) => !before[signal].includes(l));
  expect(added).toHaveLength(1);
  return added[0] as (s: NodeJS.Signals) => void;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('runService', () => {
  it('runs the stoppers in reverse order of registration, once, however often stop is called', async () => {
    const { logger, exit, messages } = setup();
    const order: string[] = [];
    const handle = await runService({
      name: 'svc',
      logger,
      shutdownTimeoutMs: 5_000,
      exit,
      start: async (onStop) => {
        onStop(() => {
          order.push('http');
        });
        onStop(async () => {
          await Promise.resolve();
          order.push('nats');
        });
        onStop(() => {
          order.push('redis');
        });
      },
    });
    expect(messages()).toContain('svc started');
    expect(order).toEqual([]);

    await Promise.all([handle.stop('test'), handle.stop('again')]);
    await handle.stop();
    expect(order).toEqual(['redis', 'nats', 'http']);
    expect(messages()).toEqual(['svc started', 'svc stopping', 'svc stopped']);
    expect(exit).not.toHaveBeenCalled();
  });

  it('keeps stopping when a stopper throws', async () => {
    const { logger, exit, messages } = setup();
    const order: string[] = [];
    const handle = await runService({
      name: 'svc',
      logger,
      shutdownTimeoutMs: 5_000,
      exit,
      start: async (onStop) => {
        onStop(() => {
          order.push('first');
        });
        onStop(() => {
          throw new Error('boom');
        });
        onStop(() => {
          order.push('last');
        });
      },
    });
    await handle.stop();
    expect(order).toEqual(['last', 'first']);
    expect(messages()).toContain('stopper failed');
    expect(messages()).toContain('svc stopped');
  });

  it('force-exits with 1 after shutdownTimeoutMs when a stopper hangs', async () => {
    vi.useFakeTimers();
    const { logger, exit, messages } = setup();
    const before = signalListeners();
    const ran: string[] = [];
    const handle = await runService({
      name: 'svc',
      logger,
      shutdownTimeoutMs: 250,
      exit,
      start: async (onStop) => {
        onStop(() => {
          ran.push('never reached');
        });
        onStop(() => new Promise<void>(() => undefined)); // hangs forever
      },
    });
    let stopped = false;
    void handle.stop().then(() => {
      stopped = true;
    });

    await vi.advanceTimersByTimeAsync(249);
    expect(exit).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(exit).toHaveBeenCalledExactlyOnceWith(1);
    expect(messages()).toContain('graceful stop timed out, forcing exit');
    expect(stopped).toBe(false);
    expect(ran).toEqual([]);
    // The stop never finishes, so its signal listeners stay; remove them for the tests that follow.
    process.off('SIGTERM', addedListener(before, 'SIGTERM'));
    process.off('SIGINT', addedListener(before, 'SIGINT'));
  });

  it('does not force-exit after a graceful stop', async () => {
    vi.useFakeTimers();
    const { logger, exit } = setup();
    const handle = await runService({ name: 'svc', logger, shutdownTimeoutMs: 250, exit, start: async () => undefined });
    await handle.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(exit).not.toHaveBeenCalled();
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops the service and then exits with 0', async (signal) => {
    const { logger, exit, messages } = setup();
    const before = signalListeners();
    const stopped = vi.fn();
    await runService({
      name: 'svc',
      logger,
      shutdownTimeoutMs: 5_000,
      exit,
      start: async (onStop) => {
        onStop(stopped);
      },
    });
    const listener = addedListener(before, signal);

    listener(signal);
    await vi.waitFor(() => expect(exit).toHaveBeenCalledExactlyOnceWith(0));
    expect(stopped).toHaveBeenCalledOnce();
    expect(messages()).toContain('svc stopped');
  });

  it('leaves no signal listeners behind once stopped', async () => {
    const { logger, exit } = setup();
    const before = signalListeners();
    const handle = await runService({ name: 'svc', logger, shutdownTimeoutMs: 5_000, exit, start: async () => undefined });
    expect(process.listenerCount('SIGTERM')).toBe(before.SIGTERM.length + 1);
    await handle.stop();
    expect(signalListeners()).toEqual(before);
  });

  it('when start fails: runs the stoppers registered so far, exits with 1 and rejects', async () => {
    const { logger, exit, messages } = setup();
    const stopped = vi.fn();
    const started = runService({
      name: 'svc',
      logger,
      shutdownTimeoutMs: 5_000,
      exit,
      start: async (onStop) => {
        onStop(stopped);
        throw new Error('cannot reach nats');
      },
    });
    await expect(started).rejects.toThrow('cannot reach nats');
    expect(stopped).toHaveBeenCalledOnce();
    expect(exit).toHaveBeenCalledExactlyOnceWith(1);
    expect(messages()).toContain('svc failed to start');
    expect(messages()).not.toContain('svc started');
  });
});
