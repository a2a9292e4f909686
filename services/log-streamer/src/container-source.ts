import type { Readable } from 'node:stream';

/** A berth container of this host whose output is followed. */
export interface ContainerInfo {
  /** engine id */
  ref: string;
  /** berth id, from the `berth.id` label: names the LOGS subjects */
  workspaceId: string;
  running: boolean;
}

export interface LogsStream {
  stream: Readable;
  /** A TTY container's output is not multiplexed. */
  tty: boolean;
}

/** What log-streamer reads from the container engine (read-only). Tests use a fake. */
export interface ContainerSource {
  list(hostId: string): Promise<ContainerInfo[]>;
  /** Calls `onStart` for each container of this host that starts; resolves when the event stream ends. */
  watchStarts(hostId: string, onStart: (c: ContainerInfo) => void, signal: AbortSignal): Promise<void>;
  /**
   * Output with timestamps from `since` (unix seconds, fractional) on, following until the
   * container stops (or, with `follow` false, what is stored now).
   */
  logs(ref: string, since: string | undefined, follow?: boolean): Promise<LogsStream>;
  ping(): Promise<boolean>;
}
