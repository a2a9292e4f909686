import { randomUUID } from 'node:crypto';
import { ContainerListSchema, CreateContainerReplySchema, type CreateContainerBody, type LlmKeyStateReply, type Usage } from '@berth/contracts';
import { Container } from './container.js';
import { deleteContainer, getContainerView, getUsage, llmKeyCall } from './container-calls.js';
import type { CallOptions } from './options.js';
import type { Transport } from './transport.js';

export interface CreateContainerOptions extends CreateContainerBody, CallOptions {
  /**
   * Makes a retried create return the same container. A fresh random key is sent on every call
   * unless given; the SDK's own retries reuse it.
   */
  idempotencyKey?: string;
}

/** `berth.containers`: the caller's claimed workspaces. */
export class Containers {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Claims a warm container from a pool, or cold-creates one when none matches. */
  async create(opts: CreateContainerOptions = {}): Promise<Container> {
    const { idempotencyKey = randomUUID(), timeoutMs, signal, retry, ...body } = opts;
    const created = await this.#transport.request(
      {
        method: 'POST',
        path: '/api/containers',
        schema: CreateContainerReplySchema,
        body: bodyOf(body),
        headers: { 'idempotency-key': idempotencyKey },
        ok: [201],
        idempotent: true,
      },
      { timeoutMs, signal, retry },
    );
    const { warm, ...view } = created;
    return new Container(this.#transport, view, warm);
  }

  async get(id: string, opts: CallOptions = {}): Promise<Container> {
    return new Container(this.#transport, await getContainerView(this.#transport, id, opts));
  }

  async list(opts: CallOptions = {}): Promise<Container[]> {
    const list = await this.#transport.request({ method: 'GET', path: '/api/containers', schema: ContainerListSchema, idempotent: true }, opts);
    return list.containers.map((view) => new Container(this.#transport, view));
  }

  /** A container's usage by id (as `Container.usage`), without reading the container first. */
  usage(id: string, opts: CallOptions = {}): Promise<Usage> {
    return getUsage(this.#transport, id, opts);
  }

  /** Revokes or rotates a container's LLM key by id (as `Container.llmKey`). */
  llmKey(id: string, action: 'revoke' | 'rotate', opts: CallOptions = {}): Promise<LlmKeyStateReply> {
    return llmKeyCall(this.#transport, id, action, opts);
  }

  /** Removes a container by id; a missing one fails with CONTAINER_NOT_FOUND. */
  async delete(id: string, opts: CallOptions = {}): Promise<void> {
    await deleteContainer(this.#transport, id, opts);
  }
}

/** Only the body fields the API knows; undefined ones are left out so the strict schema accepts it. */
function bodyOf(body: CreateContainerBody): CreateContainerBody {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as CreateContainerBody;
}
