import type { Backend } from '../backend.js';

/**
 * A followed log stream is use of its container: pool-manager hears a keepalive when it opens and
 * then every `everyMs` until `stop` (the stream ended). Failures are ignored: the stream is what matters.
 */
export function logActivityLease(backend: Backend, id: string, owner: string, everyMs: number): { stop(): void } {
  const touch = () => {
    void backend.request('containerKeepalive', { id, owner }).catch(() => undefined);
  };
  touch();
  const timer = setInterval(touch, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
