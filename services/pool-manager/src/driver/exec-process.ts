/** One process started in a workload, with its output as it arrives. */
export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

export interface SpawnOptions {
  env?: Record<string, string> | undefined;
  /** Defaults to /workspace. */
  cwd?: string | undefined;
  /** A PTY: output is one stream, input is accepted, the size can change. */
  tty?: { cols: number; rows: number } | undefined;
  /**
   * The command's own timeout: pool-manager kills it then. Also enforced without pool-manager a
   * little later (the agent's timer, or `timeout` around the command under `docker exec`).
   */
  timeoutMs?: number | undefined;
  /**
   * Output kept per stream (a plain exec's cap). The agent sends no more than this and kills the
   * command once a stream passes it (`truncated()` says which); pool-manager stops reading there too.
   */
  maxOutputBytes?: number | undefined;
}

export interface ExecProcess {
  /** Output in order. Reading slowly pauses the process: nothing is buffered beyond the socket. */
  output: AsyncIterable<OutputChunk>;
  /** Resolves with the exit code once the output has ended (null when it could not be read). */
  exitCode(): Promise<number | null>;
  /** Streams the process itself cut at `maxOutputBytes` (the agent does; known once exitCode resolved). */
  truncated(): { stdout: boolean; stderr: boolean };
  /** Terminal input; ignored without a tty. */
  write(data: Buffer): void;
  resize(cols: number, rows: number): Promise<void>;
  /**
   * Kills the process, its process group and every process it started that still carries the
   * exec's marker variable (children that made their own session or group included).
   */
  kill(): Promise<void>;
}

/** Name of the variable that marks every process of one exec, so they can be found and killed. */
export const EXEC_MARKER_VAR = 'BERTH_EXEC_ID';

/**
 * Runs inside the workspace with a value as $1: kills the process group of every process whose
 * environment has `variable=$1` (one atomic signal for the group) and each such process, until none is left.
 */
export const killScript = (variable: string) => `m="${variable}=$1"; n=0
while [ $n -lt 20 ]; do
  pids=$(grep -lsxzF -- "$m" /proc/[0-9]*/environ | cut -d/ -f3)
  [ -z "$pids" ] && exit 0
  for p in $pids; do kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
  n=$((n+1)); sleep 0.05
done
exit 1`;

/** killScript for one exec's marker value. */
export const KILL_SCRIPT = killScript(EXEC_MARKER_VAR);
