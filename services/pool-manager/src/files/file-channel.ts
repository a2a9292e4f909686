import { BerthError, FileEntrySchema, type FileEntry } from '@berth/contracts';
import type { AgentConnection } from '../agent/agent-connection.js';
import type { AgentRegistry } from '../agent/agent-registry.js';
import type { AgentMessage } from '../agent/frames.js';
import { encodeJson, writeData } from '../agent/frames.js';
import { fileError } from './file-errors.js';

/** How long the agent may take to accept a request, and to answer its first reply. */
const ACCEPT_TIMEOUT_MS = 2_000;
const FIRST_REPLY_TIMEOUT_MS = 30_000;
/** How long a file request waits for an idle connection of a busy agent. */
const AGENT_WAIT_MS = 1_000;
const FILES_FEATURE = 'files';

type Reply = Exclude<AgentMessage, { type: 'hello' | 'accepted' | 'exit' }>;

/**
 * One file request on one agent connection (docker/agent/PROTOCOL.md, "Files"): the agent's
 * JSON replies come in order through `next()`, its data frames through `conn.decoder`. The agent
 * is the workspace's: anything out of protocol ends the connection with an error.
 */
export class FileChannel {
  private readonly queue: Reply[] = [];
  private waiter: (() => void) | undefined;

  private constructor(
    readonly conn: AgentConnection,
    readonly path: string,
  ) {
    conn.onReply = (msg) => {
      this.queue.push(msg as Reply);
      // A flood of replies the caller does not read (an agent out of protocol) is cut off.
      if (this.queue.length > 1_000) conn.destroy();
      this.waiter?.();
    };
    conn.socket.on('close', () => this.waiter?.());
  }

  /**
   * Sends `request` to an idle connection of the workspace's agent. AGENT_UNAVAILABLE when the
   * workspace has no agent connected, AGENT_UPGRADE_REQUIRED when its agent has no file support.
   */
  static async open(
    agents: AgentRegistry | undefined,
    id: string,
    request: Record<string, unknown>,
    path: string,
    feature = FILES_FEATURE,
  ): Promise<FileChannel> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const conn = await agents?.take(id, AGENT_WAIT_MS);
      if (!conn) break;
      if (!conn.features.includes(feature)) {
        conn.destroy();
        throw new BerthError('AGENT_UPGRADE_REQUIRED', `the workspace's agent predates ${feature} support: recreate the workspace from a current image`);
      }
      // Listening before asking: the agent's first reply can arrive in the same read as `accepted`.
      const channel = new FileChannel(conn, path);
      conn.socket.write(encodeJson({ type: 'files', ...request }));
      let timer: NodeJS.Timeout | undefined;
      const accepted = await Promise.race([
        conn.accepted,
        new Promise<false>((r) => {
          timer = setTimeout(() => r(false), ACCEPT_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (accepted) return channel;
      conn.destroy();
    }
    throw new BerthError('AGENT_UNAVAILABLE', "the workspace has no agent connected (an image without berth's agent, or it is restarting)", {
      retryAfterSeconds: 1,
    });
  }

  /** The agent's next reply; an `error` reply or a closed connection throws. */
  async next(timeoutMs = FIRST_REPLY_TIMEOUT_MS, limit?: number): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.conn.closed) throw new BerthError('FILE_OPERATION_FAILED', `${JSON.stringify(this.path)}: the workspace's agent ended the operation`);
      if (Date.now() >= deadline) {
        this.conn.destroy();
        throw new BerthError('TIMEOUT', "the workspace's agent did not answer in time");
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    const msg = this.queue.shift()!;
    if (msg.type === 'error') {
      this.conn.destroy();
      throw fileError(msg.code, msg.message, this.path, limit);
    }
    return msg;
  }

  /** The next reply, which must be of `type`. */
  async expect<T extends Reply['type']>(type: T, timeoutMs?: number, limit?: number): Promise<Extract<Reply, { type: T }>> {
    const msg = await this.next(timeoutMs, limit);
    if (msg.type !== type) {
      this.conn.destroy();
      throw new BerthError('FILE_OPERATION_FAILED', `${JSON.stringify(this.path)}: the workspace's agent answered out of protocol`);
    }
    return msg as Extract<Reply, { type: T }>;
  }

  /** Writes upload bytes; resolves once the socket has room again (the agent's disk paces the upload). */
  async write(data: Buffer): Promise<void> {
    if (this.conn.closed) return;
    if (writeData(this.conn.socket, data)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.conn.socket.off('drain', done);
        this.conn.socket.off('close', done);
        resolve();
      };
      this.conn.socket.once('drain', done);
      this.conn.socket.once('close', done);
    });
  }

  send(msg: object): void {
    if (!this.conn.closed && this.conn.socket.writable) this.conn.socket.write(encodeJson(msg));
  }

  close(): void {
    this.conn.destroy();
  }
}

/** An entry the agent reported, checked: undefined when it is not one. */
export function entryOf(value: unknown): FileEntry | undefined {
  const parsed = FileEntrySchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
