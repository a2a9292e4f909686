import { EXEC_DEFAULT_TIMEOUT_MS, ExecResultSchema, type ContainerView, type ExecResult } from '@berth/contracts';
import { containerPath, deleteContainer, getContainerView } from './container-calls.js';
import type { CallOptions } from './options.js';
import type { Transport } from './transport.js';

/** How much longer than the command's own timeout the client waits for its answer. */
export const EXEC_ANSWER_MARGIN_MS = 10_000;

/**
 * Options of `container.exec`. Streaming output (`onStdout`/`onStderr`) and stdin arrive with the
 * streaming exec API and join this object; the call itself stays the same.
 */
export interface ExecOptions {
  /** The command's timeout inside the workspace (server default 30 000 ms). */
  timeoutMs?: number;
  /** Aborts waiting for the answer; the command itself still runs out its timeout. */
  signal?: AbortSignal;
}

export type ContainerCommand = string | string[];

/** A claimed workspace. Fields reflect the last answer; `refresh()` reads them again. */
export class Container {
  readonly #transport: Transport;
  #view: ContainerView;
  /** true when it came from the warm pool; known only for a container this client created. */
  readonly warm: boolean | undefined;

  constructor(transport: Transport, view: ContainerView, warm?: boolean) {
    this.#transport = transport;
    this.#view = view;
    this.warm = warm;
  }

  get id(): string { return this.#view.id; }
  get name(): string { return this.#view.name; }
  get pool(): string { return this.#view.pool; }
  get image(): string { return this.#view.image; }
  get state(): ContainerView['state'] { return this.#view.state; }
  get hostPort(): number | null { return this.#view.hostPort; }
  get ports(): Record<string, number> { return this.#view.ports; }
  get createdAt(): string { return this.#view.createdAt; }
  get claimedAt(): string | null { return this.#view.claimedAt; }
  get lastActiveAt(): string | null { return this.#view.lastActiveAt; }
  get volumeName(): string | null { return this.#view.volumeName; }

  /** The container as the API describes it. */
  toJSON(): ContainerView & { warm?: boolean } {
    return { ...this.#view, ...(this.warm !== undefined && { warm: this.warm }) };
  }

  /**
   * Runs a command and waits for it to finish. A string runs under `sh -c`, an array as argv. A
   * command that runs out of time resolves with `timedOut: true`; it is never retried.
   */
  async exec(command: ContainerCommand, opts: ExecOptions = {}): Promise<ExecResult> {
    const commandTimeout = opts.timeoutMs ?? EXEC_DEFAULT_TIMEOUT_MS;
    return this.#transport.request({
      method: 'POST',
      path: `${containerPath(this.id)}/exec`,
      schema: ExecResultSchema,
      body: { command, ...(opts.timeoutMs !== undefined && { timeout: opts.timeoutMs }) },
      idempotent: false,
    }, { timeoutMs: commandTimeout + EXEC_ANSWER_MARGIN_MS, ...(opts.signal && { signal: opts.signal }) });
  }

  /** Reads the container again and updates this handle. */
  async refresh(opts: CallOptions = {}): Promise<this> {
    this.#view = await getContainerView(this.#transport, this.id, opts);
    return this;
  }

  /** Removes the container and releases its host ports. */
  async delete(opts: CallOptions = {}): Promise<void> {
    await deleteContainer(this.#transport, this.id, opts);
  }
}
