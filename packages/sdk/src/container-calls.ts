import {
  ContainerViewSchema,
  DeleteContainerReplySchema,
  LlmKeyStateReplySchema,
  UsageSchema,
  type ContainerView,
  type LlmKeyStateReply,
  type Usage,
} from '@berth/contracts';
import type { CallOptions } from './options.js';
import type { Transport } from './transport.js';

export const containerPath = (id: string): string => `/api/containers/${encodeURIComponent(id)}`;

export function getContainerView(transport: Transport, id: string, opts: CallOptions): Promise<ContainerView> {
  return transport.request({ method: 'GET', path: containerPath(id), schema: ContainerViewSchema, idempotent: true }, opts);
}

export async function deleteContainer(transport: Transport, id: string, opts: CallOptions): Promise<void> {
  await transport.request({ method: 'DELETE', path: containerPath(id), schema: DeleteContainerReplySchema, idempotent: true }, opts);
}

export function getUsage(transport: Transport, id: string, opts: CallOptions): Promise<Usage> {
  return transport.request({ method: 'GET', path: `${containerPath(id)}/usage`, schema: UsageSchema, idempotent: true }, opts);
}

/** DELETE (revoke) or POST (rotate) the workspace's LLM key. Both are safe to repeat: the SDK retries them. */
export function llmKeyCall(transport: Transport, id: string, action: 'revoke' | 'rotate', opts: CallOptions): Promise<LlmKeyStateReply> {
  return transport.request(
    {
      method: action === 'revoke' ? 'DELETE' : 'POST',
      path: `${containerPath(id)}/llm-key`,
      schema: LlmKeyStateReplySchema,
      idempotent: true,
    },
    opts,
  );
}

/** POST …/pause or …/resume; both are idempotent (pausing a paused container changes nothing), so the SDK retries them. */
export function pauseCall(transport: Transport, id: string, action: 'pause' | 'resume', opts: CallOptions): Promise<ContainerView> {
  return transport.request({ method: 'POST', path: `${containerPath(id)}/${action}`, schema: ContainerViewSchema, idempotent: true }, opts);
}
