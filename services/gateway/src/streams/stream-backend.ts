import { BerthError, type ReplyOf, type RequestOf, type StreamBytes, type StreamControl, type StreamOut } from '@berth/contracts';
import type { BackendRequestOptions } from '../backend.js';

export type StreamKey = 'containerExecStream' | 'terminalOpen' | 'filesRead' | 'filesWrite' | 'filesWatch' | 'templateBuild';
/** What a route asks for; the transport adds streamId, inbox and window. */
export type StreamOpenData<K extends StreamKey> = Omit<RequestOf<K>, 'streamId' | 'inbox' | 'window'>;

/** The gateway's end of one stream from pool-manager. */
export interface StreamHandle {
  /**
   * Starts delivery. Messages that arrived before (at most a window's worth) come first. The
   * listener must `ack(seq)` each message once its client has taken it; unacked messages stop
   * the producer, which is how a slow client pauses the command. File bytes (binary messages, in
   * the same sequence) go to `onBytes`.
   */
  listen(onMessage: (msg: StreamOut) => void, onBytes?: (msg: StreamBytes) => void): void;
  ack(seq: number): void;
  /** Terminal input and resizes. */
  control(msg: StreamControl): void;
  /** Upload bytes, numbered like `data` control messages (acknowledged through onAck). */
  sendBytes(seq: number, data: Uint8Array): void;
  /** Stops listening; tells pool-manager to cancel unless the stream already ended. Idempotent. */
  close(): void;
  /** Pool-manager's acknowledgements of upload `data` control messages (cumulative seq). */
  onAck(listener: (seq: number) => void): void;
}

/** Streams from pool-manager: NATS in production, a fake in unit tests. */
export interface StreamBackend {
  open<K extends StreamKey>(
    key: K,
    data: StreamOpenData<K>,
    opts?: BackendRequestOptions & { deadlineMs?: number },
  ): Promise<StreamHandle & { opened: ReplyOf<K> }>;
}

/** For an app built without streams (some tests): every stream is SERVICE_UNAVAILABLE. */
export const unavailableStreams: StreamBackend = {
  open: () => Promise.reject(new BerthError('SERVICE_UNAVAILABLE', 'streams are not available', { retryAfterSeconds: 1 })),
};
