import { randomBytes } from 'node:crypto';
import {
  BerthError,
  STREAM_KEEPALIVE_MS,
  STREAM_LEASE_MS,
  STREAM_WINDOW_DEFAULT,
  STREAMS,
  type RequestOf,
  type StreamBytes,
  type StreamControl,
  type StreamAck,
  type StreamKeepalive,
  type StreamOut,
} from '@berth/contracts';
import {
  newInbox,
  publishBytes,
  publishValidated,
  request,
  SpanKind,
  SpanStatusCode,
  startSpan,
  subscribeStream,
  type Logger,
  type NatsConnection,
} from '@berth/service-kit';
import type { StreamBackend, StreamHandle, StreamKey } from './stream-backend.js';

const failure = (seq: number, err: BerthError): StreamOut => ({ type: 'error', seq, error: err.toBody().error });

/**
 * Streams over core NATS (protocol in contracts/streams.ts). Core NATS may drop a message (slow
 * consumer, reconnect): a gap in `seq` ends the stream with an error rather than silently
 * corrupting the output. Pool-manager's keepalives hold a lease: silence for `leaseMs` (it died,
 * or the network split) ends the stream with SERVICE_UNAVAILABLE instead of leaving it hanging.
 */
export function natsStreams(nc: NatsConnection, logger: Logger, defaults: { timeoutMs: number; leaseMs?: number }): StreamBackend {
  const leaseMs = defaults.leaseMs ?? STREAM_LEASE_MS;
  return {
    async open(key, data, opts = {}) {
      const streamId = `st_${randomBytes(12).toString('hex')}`;
      const inbox = newInbox(nc);
      const ctl = STREAMS.control.subject(streamId);
      const queued: (StreamOut | StreamBytes)[] = [];
      let listener: ((m: StreamOut) => void) | undefined;
      let bytesListener: ((m: StreamBytes) => void) | undefined;
      let ackListener: ((seq: number) => void) | undefined;
      let expected = 1;
      let ended = false;
      // One span from open to end, cancel or close; the open request is its child.
      const { span, context: trace } = startSpan(`stream ${key}`, { kind: SpanKind.CLIENT, parent: opts.trace, attributes: { 'messaging.system': 'nats' } });

      let lease: NodeJS.Timeout | undefined = undefined;
      const hand = (msg: StreamOut | StreamBytes) => {
        if (msg.type !== 'bytes') listener!(msg);
        else if (bytesListener) bytesListener(msg);
        else listener!(failure(msg.seq, new BerthError('INTERNAL', 'unexpected bytes on this stream')));
      };
      const deliver = (msg: StreamOut | StreamBytes | StreamKeepalive | StreamAck) => {
        if (ended) return;
        lease?.refresh();
        if (msg.type === 'keepalive') return;
        if (msg.type === 'ack') {
          ackListener?.(msg.seq);
          return;
        }
        if (msg.seq !== expected) msg = failure(expected, new BerthError('INTERNAL', 'stream lost messages in transit'));
        expected += 1;
        if (msg.type === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: msg.error.code });
        if (msg.type === 'end' || msg.type === 'error') finish(false);
        if (listener) hand(msg);
        else queued.push(msg);
      };
      const sub = subscribeStream(nc, inbox, STREAMS.out.schema, deliver, (seq, data) => deliver({ type: 'bytes', seq, data }), logger);
      const send = (msg: StreamControl) => {
        if (!nc.isClosed()) publishValidated(nc, ctl, STREAMS.control.schema, msg, logger);
      };
      const keepalive = setInterval(() => send({ type: 'keepalive' }), STREAM_KEEPALIVE_MS);
      const deadline =
        opts.deadlineMs === undefined
          ? undefined
          : setTimeout(() => deliver(failure(expected, new BerthError('TIMEOUT', 'the stream did not end in time'))), opts.deadlineMs);
      function finish(cancel: boolean) {
        if (cancel && !ended) send({ type: 'cancel' });
        if (!ended) span.end();
        ended = true;
        clearInterval(keepalive);
        clearTimeout(lease);
        clearTimeout(deadline);
        sub.unsubscribe();
      }

      let opened: unknown;
      try {
        opened = await request(nc, key as StreamKey, { ...data, streamId, inbox, window: STREAM_WINDOW_DEFAULT } as unknown as RequestOf<StreamKey>, {
          timeoutMs: opts.timeoutMs ?? defaults.timeoutMs,
          trace,
          hostId: opts.hostId,
        });
      } catch (err) {
        finish(true);
        throw err;
      }
      lease = setTimeout(() => {
        // Cancel in case it is only unreachable, then tell the listener.
        send({ type: 'cancel' });
        deliver(failure(expected, new BerthError('SERVICE_UNAVAILABLE', 'pool-manager stopped answering this stream', { retryAfterSeconds: 1 })));
      }, leaseMs);
      const handle: StreamHandle & { opened: never } = {
        opened: opened as never,
        onAck: (l) => {
          ackListener = l;
        },
        listen: (onMessage, onBytes) => {
          listener = onMessage;
          bytesListener = onBytes;
          for (const m of queued.splice(0)) hand(m);
        },
        sendBytes: (seq, data) => {
          if (!ended && !nc.isClosed()) publishBytes(nc, ctl, seq, data);
        },
        ack: (seq) => {
          if (!ended) send({ type: 'ack', seq });
        },
        control: (msg) => {
          if (!ended) send(msg);
        },
        close: () => finish(true),
      };
      return handle;
    },
  };
}
