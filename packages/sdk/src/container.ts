import type { ContainerView, ExecResult, LlmKeyStateReply, SetupBody, SetupStatus, Usage } from '@berth/contracts';
import { deleteContainer, getContainerView, getUsage, llmKeyCall, pauseCall } from './container-calls.js';
import { execCommand, type ContainerCommand, type ExecOptions } from './exec.js';
import { ContainerFiles } from './files.js';
import { streamLogs, type LogLine, type LogsOptions } from './logs.js';
import type { CallOptions } from './options.js';
import { Previews } from './previews.js';
import { getSetupStatus, runSetup, type SetupOptions } from './setup.js';
import { openTerminal, type Terminal, type TerminalOptions } from './terminal.js';
import type { Transport } from './transport.js';

/** A claimed workspace. Fields reflect the last answer; `refresh()` reads them again. */
export class Container {
  readonly #transport: Transport;
  #view: ContainerView;
  /** true when it came from the warm pool; known only for a container this client created. */
  readonly warm: boolean | undefined;

  /**
   * The workspace's scoped LLM key (its commands' OPENAI_API_KEY / ANTHROPIC_API_KEY, accepted only
   * by egress). `revoke()`: egress refuses it from now on and new commands get none. `rotate()`: a
   * new key for commands started afterwards; the old one stops working.
   */
  readonly llmKey: {
    revoke(opts?: CallOptions): Promise<LlmKeyStateReply>;
    rotate(opts?: CallOptions): Promise<LlmKeyStateReply>;
  };

  /** The workspace's files, as the workspace user (docs/files.md). */
  readonly files: ContainerFiles;
  /** Preview URLs of its published ports: `url(port)`, `share({ port, expiresInSeconds })`, `revoke(previewId)`. */
  readonly previews: Previews;

  constructor(transport: Transport, view: ContainerView, warm?: boolean) {
    this.#transport = transport;
    this.files = new ContainerFiles(transport, view.id);
    this.#view = view;
    this.warm = warm;
    this.previews = new Previews(transport, view.id);
    this.llmKey = {
      revoke: (opts = {}) => llmKeyCall(this.#transport, this.id, 'revoke', opts),
      rotate: (opts = {}) => llmKeyCall(this.#transport, this.id, 'rotate', opts),
    };
  }

  get id(): string {
    return this.#view.id;
  }
  get name(): string {
    return this.#view.name;
  }
  get pool(): string {
    return this.#view.pool;
  }
  get image(): string {
    return this.#view.image;
  }
  get state(): ContainerView['state'] {
    return this.#view.state;
  }
  get hostPort(): number | null {
    return this.#view.hostPort;
  }
  get ports(): Record<string, number> {
    return this.#view.ports;
  }
  get createdAt(): string {
    return this.#view.createdAt;
  }
  get claimedAt(): string | null {
    return this.#view.claimedAt;
  }
  get lastActiveAt(): string | null {
    return this.#view.lastActiveAt;
  }
  get volumeName(): string | null {
    return this.#view.volumeName;
  }

  /** The container as the API describes it. */
  toJSON(): ContainerView & { warm?: boolean } {
    return { ...this.#view, ...(this.warm !== undefined && { warm: this.warm }) };
  }

  /**
   * Runs a command and waits for it to finish. A string runs under `sh -c`, an array as argv. A
   * command that runs out of time resolves with `timedOut: true`; it is never retried. With
   * `onStdout`/`onStderr` the output arrives as it happens (and aborting kills the command).
   */
  exec(command: ContainerCommand, opts: ExecOptions = {}): Promise<ExecResult> {
    return execCommand(this.#transport, this.id, command, opts);
  }

  /**
   * The container's output as an async iterator. Following (the default), it reconnects after a
   * dropped connection and resumes right after the last line seen (Last-Event-ID).
   */
  logs(opts: LogsOptions = {}): AsyncGenerator<LogLine> {
    return streamLogs(this.#transport, this.id, opts);
  }

  /** An interactive shell: write, onData / for await, resize, close. Opened with a single-use ticket. */
  terminal(opts: TerminalOptions = {}): Promise<Terminal> {
    return openTerminal(this.#transport, this.id, opts);
  }

  /**
   * Sets the workspace up from a repository (clone, install, build, start) and waits until it is
   * ready; `onProgress` sees each phase. A failed setup throws a BerthApiError with its code.
   */
  setup(body: SetupBody, opts: SetupOptions = {}): Promise<SetupStatus> {
    return runSetup(this.#transport, this.id, body, opts);
  }

  /** The latest setup status (SETUP_NOT_FOUND when none was started). */
  setupStatus(opts: CallOptions = {}): Promise<SetupStatus> {
    return getSetupStatus(this.#transport, this.id, opts);
  }

  /**
   * One sample of CPU (100 = one core), memory, pids and network use; the engine takes about a
   * second. `llm`: LLM requests, tokens, spend and limits through egress (absent when egress did not answer).
   */
  usage(opts: CallOptions = {}): Promise<Usage> {
    return getUsage(this.#transport, this.id, opts);
  }

  /** Reads the container again and updates this handle. */
  async refresh(opts: CallOptions = {}): Promise<this> {
    this.#view = await getContainerView(this.#transport, this.id, opts);
    return this;
  }

  /**
   * Freezes the container's processes and takes its memory out of the host budget; files, ports,
   * setup and LLM key stay (egress refuses the key while paused). A command for a paused container
   * resumes it unless its autoResume is off (then CONTAINER_PAUSED). See docs/pause.md.
   */
  async pause(opts: CallOptions = {}): Promise<this> {
    this.#view = await pauseCall(this.#transport, this.id, 'pause', opts);
    return this;
  }

  /** Thaws a paused container (CAPACITY_EXHAUSTED, retried by the SDK, when the host has no room for it now). */
  async resume(opts: CallOptions = {}): Promise<this> {
    this.#view = await pauseCall(this.#transport, this.id, 'resume', opts);
    return this;
  }

  /** Removes the container and releases its host ports. */
  async delete(opts: CallOptions = {}): Promise<void> {
    await deleteContainer(this.#transport, this.id, opts);
  }
}
