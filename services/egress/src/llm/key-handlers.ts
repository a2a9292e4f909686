import { BerthError } from '@berth/contracts';
import { serve, type Logger, type NatsConnection } from '@berth/service-kit';
import type { LlmStore } from './store.js';

const unavailable =
  (logger: Logger, what: string) =>
  (err: unknown): never => {
    logger.warn({ err: (err as Error).message }, `${what} failed`);
    throw new BerthError('SERVICE_UNAVAILABLE', 'LLM key store is unavailable', { retryAfterSeconds: 1 });
  };

/** berth.llmkey.register / revoke / sync and berth.llm.usage. Only key hashes ever arrive here. */
export function serveLlmKeys(nc: NatsConnection, store: LlmStore, logger: Logger): void {
  serve(
    nc,
    'llmKeyRegister',
    async (req) => {
      await store.register(req).catch(unavailable(logger, 'llm key register'));
      logger.info({ workspaceId: req.workspaceId, owner: req.owner, hostId: req.hostId, limits: req.limits }, 'llm key registered');
      return { registered: true as const };
    },
    logger,
  );
  serve(
    nc,
    'llmKeyRevoke',
    async (req) => {
      const revoked = await store.revoke(req.workspaceId).catch(unavailable(logger, 'llm key revoke'));
      logger.info({ workspaceId: req.workspaceId, revoked }, 'llm key revoked');
      return { revoked };
    },
    logger,
  );
  serve(
    nc,
    'llmKeySync',
    async (req) => {
      const result = await store.sync(req.hostId, req.asOf, req.keys).catch(unavailable(logger, 'llm key sync'));
      if (result.added + result.removed > 0) logger.info({ hostId: req.hostId, ...result }, 'llm keys synced');
      return result;
    },
    logger,
  );
  serve(nc, 'llmUsage', async (req) => store.usage(req.workspaceId).catch(unavailable(logger, 'llm usage')), logger);
}
