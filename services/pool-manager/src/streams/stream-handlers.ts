import { BerthError, type ExecStreamRequest, type StreamOpened, type TerminalOpenRequest } from '@berth/contracts';
import { inSpan, serve, StreamSink, type Logger, type NatsConnection, type Subscription } from '@berth/service-kit';
import type { ExecProcess } from '../driver/exec-process.js';
import type { Activity } from '../idle/activity.js';
import type { Tickets } from '../tickets.js';
import { argvOf, containerDeleted, type Processes } from '../workspaces/processes.js';
import { pump, ptyEncoder, textEncoder, type Encoder, type EndMapper } from './pump.js';

/** bash when the image has it, sh otherwise; a login shell so the user's profile applies. */
export const SHELL_ARGV = ['sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi'];

export interface StreamDeps {
  nc: NatsConnection;
  processes: Processes;
  tickets: Tickets;
  /** A running stream or open terminal keeps its workspace from being reaped as idle. */
  activity: Activity;
  logger: Logger;
}

function run(d: StreamDeps, id: string, proc: ExecProcess, sink: StreamSink, encoder: Encoder, timeoutMs: number | undefined, mapEnd?: EndMapper): void {
  const release = d.activity.hold(id);
  // A span for the stream's whole life, child of the request that opened it.
  inSpan('stream pump', { attributes: { 'berth.stream.id': sink.streamId } }, () => pump(proc, sink, encoder, timeoutMs, mapEnd))
    .catch((err: unknown) => {
      d.logger.error({ err, streamId: sink.streamId }, 'stream failed');
      void proc.kill().catch(() => undefined);
      sink.finish({ type: 'error', error: new BerthError('INTERNAL', 'stream failed').toBody().error });
    })
    .finally(release);
}

async function openExec(d: StreamDeps, req: ExecStreamRequest): Promise<StreamOpened> {
  const proc = await d.processes.spawn(req.id, req.owner, argvOf(req.command), { env: req.env, cwd: req.cwd, timeoutMs: req.timeoutMs });
  // Cut short by a delete: an error, as for a plain exec, not an exit without a code.
  const mapEnd: EndMapper = async (end) =>
    !end.cancelled && (await d.processes.cutShortByStop(req.id, end)) ? { type: 'error', error: containerDeleted(req.id).toBody().error } : end;
  run(d, req.id, proc, new StreamSink(d.nc, req.streamId, req.inbox, req.window, d.logger), textEncoder(), req.timeoutMs, mapEnd);
  return { streamId: req.streamId };
}

async function openTerminal(d: StreamDeps, req: TerminalOpenRequest): Promise<StreamOpened> {
  const proc = await d.processes.spawn(req.id, req.owner, SHELL_ARGV, { tty: { cols: req.cols, rows: req.rows } });
  // In order: keystrokes sent after a resize must see the new size.
  let queue = Promise.resolve();
  const sink = new StreamSink(d.nc, req.streamId, req.inbox, req.window, d.logger, (msg) => {
    queue = queue
      .then(async () => {
        if (msg.type === 'input') proc.write(Buffer.from(msg.data, 'base64'));
        else if (msg.type === 'resize') await proc.resize(msg.cols, msg.rows);
      })
      .catch((err: unknown) => d.logger.debug({ err }, 'terminal control failed'));
  });
  run(d, req.id, proc, sink, ptyEncoder(), undefined);
  return { streamId: req.streamId };
}

/** Streaming exec, terminals and the tickets that let browsers open them. */
export function serveStreamHandlers(d: StreamDeps): Subscription[] {
  return [
    serve(d.nc, 'containerExecStream', (req) => openExec(d, req), d.logger),
    serve(d.nc, 'terminalOpen', (req) => openTerminal(d, req), d.logger),
    serve(d.nc, 'ticketCreate', (req) => d.tickets.create(req.id, req.owner), d.logger),
    serve(d.nc, 'ticketRedeem', (req) => d.tickets.redeem(req.id, req.ticket), d.logger),
  ];
}
