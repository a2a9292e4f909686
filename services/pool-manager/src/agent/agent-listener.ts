import { chmod, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { AgentConnection } from './agent-connection.js';

/** What one workspace's agent can make pool-manager hold: everything else is closed at once. */
export interface AgentLimits {
  /** Greeted connections kept waiting for a command (the agent keeps 2 open). */
  maxIdle: number;
  /** Connections not greeted yet. */
  maxPending: number;
  helloTimeoutMs: number;
  /** Connections refused (over the limits) within a second before the listener pauses for `pauseMs`. */
  maxRefusedPerSecond: number;
  pauseMs: number;
}

export const AGENT_LIMITS: AgentLimits = { maxIdle: 4, maxPending: 4, helloTimeoutMs: 2_000, maxRefusedPerSecond: 100, pauseMs: 1_000 };

/**
 * pool-manager's listening socket in one workspace's agent directory (which the workspace sees
 * read-only at /run/berth). Whoever connects here is that workspace's agent, or pool-manager's own
 * user on the host: the connection's identity is the listener that accepted it, so a command never
 * goes through a path the workspace could have changed. Keeps a few idle, greeted connections.
 */
export class AgentListener {
  private server: Server | undefined;
  private readonly idle: AgentConnection[] = [];
  private readonly pending = new Set<AgentConnection>();
  private readonly waiters: ((conn: AgentConnection | undefined) => void)[] = [];
  /** Connections given to a command and still open: their agent is alive and opens replacements. */
  private busy = 0;
  private closed = false;
  private refused = 0;
  private refusedSince = 0;
  private paused = false;

  constructor(
    readonly socketPath: string,
    private readonly limits: AgentLimits = AGENT_LIMITS,
  ) {}

  /** Listens, replacing a stale socket file of an earlier pool-manager (the directory is ours alone). */
  async listen(): Promise<void> {
    await unlink(this.socketPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    const server = createServer({ allowHalfOpen: false }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The workspace user (uid 1000) connects; the directory above is the only way to reach it.
    await chmod(this.socketPath, 0o666);
    if (this.closed) server.close();
  }

  /** True once an agent is connected (greeted, waiting, or running a command). */
  get connected(): boolean {
    return this.idle.length > 0 || this.pending.size > 0 || this.busy > 0;
  }

  /**
   * An idle connection for one command. None idle: waits up to `waitMs` while an agent is
   * connected (it opens a replacement for each connection it was given); undefined otherwise.
   */
  take(waitMs: number): Promise<AgentConnection | undefined> {
    const conn = this.nextIdle();
    if (conn) return Promise.resolve(this.claim(conn));
    if (this.closed || !this.connected || waitMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = (c: AgentConnection | undefined) => {
        clearTimeout(timer);
        resolve(c && this.claim(c));
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(undefined);
      }, waitMs);
      this.waiters.push(waiter);
    });
  }

  /** Resolves true once an agent has an idle connection here, false after `timeoutMs`. */
  async waitIdle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.closed) {
      if (this.idle.some((c) => c.usable)) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  }

  /** Stops listening and drops idle and pending connections; commands already running go on. */
  close(): void {
    this.closed = true;
    this.server?.close();
    for (const c of [...this.idle, ...this.pending]) c.destroy();
    this.idle.length = 0;
    this.pending.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  private accept(socket: Socket): void {
    if (this.closed || this.pending.size >= this.limits.maxPending || this.idle.length >= this.limits.maxIdle) {
      socket.destroy();
      this.refusedOne();
      return;
    }
    const conn = new AgentConnection(socket, this.limits.helloTimeoutMs);
    this.pending.add(conn);
    void conn.greeted.then((ok) => {
      this.pending.delete(conn);
      if (ok) this.offer(conn);
    });
  }

  /**
   * A workspace that connects in a loop would cost pool-manager an accept per attempt: past the
   * limit the listener stops listening for a moment (its connections and commands go on; the
   * agent's reconnects find no socket and back off).
   */
  private refusedOne(): void {
    const now = Date.now();
    if (now - this.refusedSince > 1_000) {
      this.refusedSince = now;
      this.refused = 0;
    }
    this.refused += 1;
    if (this.refused <= this.limits.maxRefusedPerSecond || this.paused || !this.server) return;
    this.paused = true;
    this.server.close();
    setTimeout(() => {
      this.paused = false;
      this.refused = 0;
      if (!this.closed) this.listen().catch(() => undefined);
    }, this.limits.pauseMs).unref();
  }

  private offer(conn: AgentConnection): void {
    const waiter = this.waiters.shift();
    if (waiter) return waiter(conn);
    if (this.closed || this.idle.length >= this.limits.maxIdle) return conn.destroy();
    this.idle.push(conn);
    conn.socket.once('close', () => {
      const i = this.idle.indexOf(conn);
      if (i >= 0) this.idle.splice(i, 1);
    });
  }

  private nextIdle(): AgentConnection | undefined {
    for (let conn = this.idle.shift(); conn; conn = this.idle.shift()) if (conn.usable) return conn;
    return undefined;
  }

  private claim(conn: AgentConnection): AgentConnection {
    conn.take();
    if (!conn.closed) {
      this.busy += 1;
      conn.socket.once('close', () => {
        this.busy -= 1;
      });
    }
    return conn;
  }
}
