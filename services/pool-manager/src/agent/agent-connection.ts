import type { Socket } from 'node:net';
import { AGENT_PROTOCOL_VERSION, AgentDecoder, type AgentMessage } from './frames.js';

export type ExitMessage = Extract<AgentMessage, { type: 'exit' }>;

/**
 * One connection an agent opened to its workspace's listener: `pending` until the agent's hello,
 * `idle` until pool-manager gives it a command (`take`), then the command's. The other side is
 * hostile: a wrong or late hello, or anything sent while idle, ends the connection.
 */
export class AgentConnection {
  readonly decoder: AgentDecoder;
  /** Resolves true on a valid hello, false when the connection ended or was late. */
  readonly greeted: Promise<boolean>;
  /** After `take`: resolves true when the agent accepted the command, false when the connection ended first. */
  readonly accepted: Promise<boolean>;
  /** Resolves once the agent's output has ended (or the connection failed). */
  readonly ended: Promise<void>;
  state: 'pending' | 'idle' | 'taken' = 'pending';
  exit: ExitMessage | undefined;
  /** Request kinds beyond `exec` the agent announced in its hello (protocol 2 agents: none). */
  features: string[] = [];
  /** Messages of a taken connection other than `accepted` and `exit` (file operations' replies). */
  onReply: ((msg: AgentMessage) => void) | undefined;
  closed = false;
  private greet!: (ok: boolean) => void;
  private accept!: (ok: boolean) => void;

  constructor(
    readonly socket: Socket,
    helloTimeoutMs: number,
  ) {
    this.greeted = new Promise((resolve) => {
      this.greet = resolve;
    });
    this.accepted = new Promise((resolve) => {
      this.accept = resolve;
    });
    this.decoder = new AgentDecoder((msg) => this.onMessage(msg));
    this.decoder.outputAllowed = false;
    socket.pipe(this.decoder);
    socket.on('error', (err) => this.decoder.destroy(err));
    // A bad frame (too big, unknown kind, output while idle) ends the connection, and so does a
    // reader that stops early (the agent then kills the command).
    this.decoder.on('error', () => socket.destroy());
    this.decoder.once('close', () => socket.destroy());
    // Closed without an end (destroyed): the output is over all the same.
    socket.on('close', () => {
      this.closed = true;
      this.greet(false);
      this.accept(false);
      if (!this.decoder.writableEnded) this.decoder.end();
    });
    this.ended = new Promise<void>((resolve) => {
      this.decoder.once('end', resolve);
      this.decoder.once('close', resolve);
      this.decoder.once('error', () => resolve());
    });
    const timer = setTimeout(() => {
      if (this.state === 'pending') socket.destroy();
    }, helloTimeoutMs);
    void this.greeted.then(() => clearTimeout(timer));
  }

  get usable(): boolean {
    return this.state === 'idle' && !this.closed && this.socket.writable;
  }

  /** Hands the connection to one command: from now on its output frames are that command's. */
  take(): void {
    this.state = 'taken';
    this.decoder.outputAllowed = true;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onMessage(msg: AgentMessage): void {
    if (this.state === 'pending' && msg.type === 'hello' && msg.agent === 'berth' && msg.version === AGENT_PROTOCOL_VERSION) {
      this.state = 'idle';
      this.features = Array.isArray(msg.features) ? msg.features.filter((f): f is string => typeof f === 'string').slice(0, 16) : [];
      this.greet(true);
    } else if (this.state === 'taken' && msg.type === 'accepted') {
      this.accept(true);
    } else if (this.state === 'taken' && msg.type === 'exit') {
      this.exit = msg;
    } else if (this.state === 'taken') {
      this.onReply?.(msg);
    } else {
      this.socket.destroy();
    }
  }
}
