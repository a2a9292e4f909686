import { BerthError, SUBJECTS, type ContainerView, type PoolView, type ReplyOf, type RequestOf, type SubjectKey } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../src/app.js';
import type { Backend, BackendRequestOptions } from '../src/backend.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TOKEN}` };
export const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };

export type Handler<K extends SubjectKey> = (data: RequestOf<K>, opts: BackendRequestOptions | undefined) => Promise<ReplyOf<K>> | ReplyOf<K>;
export type Handlers = { [K in SubjectKey]?: Handler<K> };

export interface Call {
  key: SubjectKey;
  data: unknown;
  opts: BackendRequestOptions | undefined;
}

/**
 * A Backend that answers from handlers, checks every request against its contracts schema (as
 * the real one does) and records the calls. A subject without a handler has no responders.
 */
export class FakeBackend implements Backend {
  readonly calls: Call[] = [];

  constructor(public handlers: Handlers = {}) {}

  async request<K extends SubjectKey>(key: K, data: RequestOf<K>, opts?: BackendRequestOptions): Promise<ReplyOf<K>> {
    SUBJECTS[key].request.parse(data);
    this.calls.push({ key, data, opts });
    const handler = this.handlers[key] as Handler<K> | undefined;
    if (!handler) throw new BerthError('SERVICE_UNAVAILABLE', `no service is answering ${SUBJECTS[key].subject}`, { retryAfterSeconds: 1 });
    return handler(data, opts);
  }

  callsTo(key: SubjectKey): Call[] {
    return this.calls.filter((c) => c.key === key);
  }
}

export async function build(handlers: Handlers = {}, extra: Partial<AppOptions> = {}): Promise<{ app: FastifyInstance; backend: FakeBackend }> {
  const backend = new FakeBackend(handlers);
  const app = await buildApp({ backend, apiToken: TOKEN, ...extra });
  return { app, backend };
}

export const ID = 'ws_0123456789abcdef';

export function containerView(id = ID): ContainerView {
  return {
    id,
    name: 'agent-1',
    pool: 'default',
    image: 'berth/workspace:latest',
    state: 'claimed',
    hostPort: 40001,
    ports: { '3000': 40001 },
    createdAt: '2025-01-01T00:00:00.000Z',
    claimedAt: '2025-01-01T00:00:01.000Z',
    lastActiveAt: null,
    volumeName: null,
  };
}

/** A pool as pool-manager lists it; `template` pools carry their template and owner. */
export function poolView(name: string, template?: { template: string; owner: string }): PoolView {
  return {
    name,
    image: template ? `berth/tpl-${name}:latest` : 'berth/workspace:latest',
    targetSize: 1,
    minSize: 1,
    maxCreating: 1,
    containerPorts: [3000],
    cpus: 1,
    memoryMb: 512,
    pids: 256,
    warm: 0,
    creating: 0,
    claimed: 0,
    ...template,
  };
}

export const TICKET = 'T'.repeat(43);

/** A ticketRedeem handler that accepts TICKET once, for `owner`, as pool-manager does. */
export function singleUseTicket(owner = 'ticket-owner'): Handler<'ticketRedeem'> {
  const redeemed = new Set<string>();
  return (req) => {
    if (req.ticket !== TICKET || redeemed.has(req.ticket)) throw new BerthError('UNAUTHORIZED', 'ticket is unknown, used or expired');
    redeemed.add(req.ticket);
    return { owner };
  };
}
