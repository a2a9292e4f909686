import { BerthError } from '@berth/contracts';
import type { Counter, Handler, Logger } from '@berth/service-kit';
import { UrlRefused, type SsrfGuard } from '../ssrf/guard.js';
import type { Registrations } from './registrations.js';

/**
 * `berth.callback.register`: the URL must pass the SSRF guard (after DNS) now; it is checked
 * again at every delivery, because DNS can change. The refusal names the reason only, never
 * the URL (its query or credentials may be secret) nor the secret.
 */
export function registerHandler(guard: SsrfGuard, registrations: Registrations, counter: Counter<'outcome'>, logger: Logger): Handler<'callbackRegister'> {
  return async (req) => {
    try {
      await guard.check(req.url);
    } catch (err) {
      if (!(err instanceof UrlRefused)) throw err;
      counter.inc({ outcome: 'refused' });
      logger.info({ id: req.id, reason: err.reason }, 'callback URL refused');
      throw new BerthError('CALLBACK_URL_REFUSED', `callback URL refused: ${err.reason}`);
    }
    try {
      await registrations.put(req.id, { url: req.url, secret: req.secret });
    } catch (err) {
      logger.warn({ id: req.id, err: (err as Error).message }, 'callback registration not stored');
      throw new BerthError('SERVICE_UNAVAILABLE', 'callback registrations are unavailable', { retryAfterSeconds: 1 });
    }
    counter.inc({ outcome: 'registered' });
    logger.info({ id: req.id, origin: new URL(req.url).origin }, 'callback registered');
    return { registered: true };
  };
}
