import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import { createLogger } from '@berth/service-kit';
import { freePort, waitForPort } from '@berth/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { listenOnEach } from '../src/proxy/listen.js';

describe('proxy listeners', () => {
  it('listens where it can and retries an address that does not exist yet (a bridge not created yet)', async () => {
    let logged = '';
    const logger = createLogger(
      'test',
      'info',
      new Writable({
        write(c: Buffer, _e, cb) {
          logged += c.toString();
          cb();
        },
      }),
    );
    const port = await freePort();
    // 192.0.2.1 (TEST-NET-1) is on no interface here: EADDRNOTAVAIL
    const close = await listenOnEach(() => createServer((_q, res) => res.end('ok')), ['127.0.0.1', '192.0.2.1'], port, logger, 50);
    await waitForPort(port);
    await new Promise((r) => setTimeout(r, 120));
    expect(logged.match(/proxy address not available yet/g)!.length).toBeGreaterThanOrEqual(2);
    await close();
    const after = logged.length;
    await new Promise((r) => setTimeout(r, 120));
    expect(logged.length).toBe(after); // no retry after close
  });

  it('any other listen failure is fatal', async () => {
    const port = await freePort();
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
    try {
      await expect(listenOnEach(() => createServer(), ['127.0.0.1'], port, createLogger('test', 'silent'))).rejects.toThrow(/EADDRINUSE/);
    } finally {
      taken.close();
    }
  });
});
