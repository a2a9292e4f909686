import { EXEC_DEFAULT_TIMEOUT_MS, EXEC_OUTPUT_CAP_BYTES, ExecResultSchema, ExecStreamEventSchema, type ExecBody, type ExecResult } from '@berth/contracts';
import { containerPath } from './container-calls.js';
import { BerthResponseError, streamedApiError, type CallSite } from './errors.js';
import { linesOf } from './lines.js';
import { callSignal } from './signals.js';
import { classify, type Transport } from './transport.js';

/** How much longer than the command's own timeout the client waits for its answer. */
export const EXEC_ANSWER_MARGIN_MS = 10_000;

export type ContainerCommand = string | string[];

/** Options of `container.exec`. */
export interface ExecOptions {
  /** The command's timeout inside the workspace (server default 30 000 ms). */
  timeoutMs?: number;
  /** Aborts the call. With `onStdout`/`onStderr` it also kills the command; without, the command runs out its timeout. */
  signal?: AbortSignal;
  /** Extra environment variables for this command. */
  env?: Record<string, string>;
  /** Working directory (absolute; default /workspace). */
  cwd?: string;
  /** Output as it happens (the streaming API). Giving either callback streams. */
  onStdout?: (data: string) => void;
  onStderr?: (data: string) => void;
}

function bodyOf(command: ContainerCommand, opts: ExecOptions): ExecBody {
  return {
    command,
    ...(opts.timeoutMs !== undefined && { timeout: opts.timeoutMs }),
    ...(opts.env !== undefined && { env: opts.env }),
    ...(opts.cwd !== undefined && { cwd: opts.cwd }),
  };
}

/** Runs a command and waits for its result, streaming its output to the callbacks when given. */
export function execCommand(transport: Transport, id: string, command: ContainerCommand, opts: ExecOptions): Promise<ExecResult> {
  const timeoutMs = (opts.timeoutMs ?? EXEC_DEFAULT_TIMEOUT_MS) + EXEC_ANSWER_MARGIN_MS;
  const body = bodyOf(command, opts);
  if (!opts.onStdout && !opts.onStderr) {
    return transport.request(
      { method: 'POST', path: `${containerPath(id)}/exec`, schema: ExecResultSchema, body, idempotent: false },
      { timeoutMs, ...(opts.signal && { signal: opts.signal }) },
    );
  }
  return execStreaming(transport, `${containerPath(id)}/exec?stream=true`, body, timeoutMs, opts);
}

/** Keeps up to the API's cap of one stream's output, like the non-streaming answer. */
class Capped {
  text = '';
  bytes = 0;
  truncated = false;
  add(data: string): void {
    if (this.truncated) return;
    const n = Buffer.byteLength(data);
    if (this.bytes + n > EXEC_OUTPUT_CAP_BYTES) {
      this.truncated = true;
      return;
    }
    this.text += data;
    this.bytes += n;
  }
}

async function execStreaming(transport: Transport, path: string, body: ExecBody, timeoutMs: number, opts: ExecOptions): Promise<ExecResult> {
  const site: CallSite = { method: 'POST', path };
  const sig = callSignal(timeoutMs, opts.signal);
  const out = { stdout: new Capped(), stderr: new Capped() };
  try {
    const res = await transport.open({ method: 'POST', path, body, headers: { accept: 'application/x-ndjson' } }, sig);
    if (!res.body) throw new BerthResponseError(site, res.status, 'no body');
    for await (const line of linesOf(res.body)) {
      if (line.trim() === '') continue;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new BerthResponseError(site, res.status, 'a stream line is not JSON');
      }
      const parsed = ExecStreamEventSchema.safeParse(json);
      if (!parsed.success) throw new BerthResponseError(site, res.status, `unexpected stream event: ${parsed.error.issues[0]?.message ?? ''}`);
      const e = parsed.data;
      if (e.type === 'error') throw streamedApiError(e.error, site);
      if (e.type === 'exit') {
        return {
          exitCode: e.exitCode,
          timedOut: e.timedOut,
          durationMs: e.durationMs,
          stdout: out.stdout.text,
          stderr: out.stderr.text,
          stdoutTruncated: out.stdout.truncated,
          stderrTruncated: out.stderr.truncated,
          truncated: out.stdout.truncated || out.stderr.truncated,
        };
      }
      out[e.type].add(e.data);
      (e.type === 'stdout' ? opts.onStdout : opts.onStderr)?.(e.data);
    }
    throw new BerthResponseError(site, res.status, "the stream ended before the command's exit");
  } catch (err) {
    throw classify(err, site, sig, timeoutMs);
  }
}
