import type { ReplyOf, RequestOf, SubjectKey } from '@berth/contracts';
import { request, type NatsConnection, type TraceContext } from '@berth/service-kit';

export interface BackendRequestOptions {
  /** How long to wait for the answer; defaults to the backend's own default. */
  timeoutMs?: number;
  /** The HTTP request's trace (traceOf), passed on in NATS headers. */
  trace?: TraceContext | undefined;
  /** Host-addressed subjects: the Docker host to ask (placement, fan-out); else the workspace id's host. */
  hostId?: string | undefined;
}

/**
 * Everything the gateway asks of the rest of berth. The real one is NATS request/reply;
 * tests use a small fake. Implementations throw BerthError with a stable code on failure.
 */
export interface Backend {
  request<K extends SubjectKey>(key: K, data: RequestOf<K>, opts?: BackendRequestOptions): Promise<ReplyOf<K>>;
}

export function natsBackend(nc: NatsConnection, defaults: { timeoutMs: number }): Backend {
  return {
    request: (key, data, opts = {}) => request(nc, key, data, { timeoutMs: opts.timeoutMs ?? defaults.timeoutMs, trace: opts.trace, hostId: opts.hostId }),
  };
}
