import type { LlmKeyRegisterRequest, RequestOf } from '@berth/contracts';
import { request, type NatsConnection } from '@berth/service-kit';

/** What pool-manager asks of egress about scoped keys (NATS in service; a recorder in unit tests). */
export interface LlmEgress {
  register(req: LlmKeyRegisterRequest, timeoutMs: number): Promise<void>;
  revoke(workspaceId: string, timeoutMs: number): Promise<void>;
  sync(req: RequestOf<'llmKeySync'>, timeoutMs: number): Promise<void>;
}

export function natsLlmEgress(nc: NatsConnection): LlmEgress {
  return {
    register: async (req, timeoutMs) => {
      await request(nc, 'llmKeyRegister', req, { timeoutMs });
    },
    revoke: async (workspaceId, timeoutMs) => {
      await request(nc, 'llmKeyRevoke', { workspaceId }, { timeoutMs });
    },
    sync: async (req, timeoutMs) => {
      await request(nc, 'llmKeySync', req, { timeoutMs });
    },
  };
}
